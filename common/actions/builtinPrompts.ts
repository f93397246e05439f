/**
 * The built-in actions, written as prompt files exactly like the ones users put in `.hearth/prompts/*.md`
 * (see promptFiles.ts). A workspace prompt file with the same `name` overrides one of these;
 * "Hearth: Customize Prompt…" copies one into the workspace to start from.
 */
export const BUILTIN_PROMPT_FILES: Record<string, string> = {
  "explain.md": `---
name: explain
description: Explain the selected code (or the file) step by step.
context: selection
mode: chat
---
Explain what this {{language}} code from \`{{path}}\` does, step by step, and point out anything surprising.

\`\`\`{{language}}
{{code}}
\`\`\`
`,
  "fix.md": `---
name: fix
description: Fix the problems in the selection (its diagnostics are included); proposes a reviewed edit.
context: selection
mode: edit
---
Fix the problems in this {{language}} code from \`{{path}}\`. Keep its behaviour otherwise, and keep the style.

Problems reported by the editor:
{{diagnostics}}

\`\`\`{{language}}
{{code}}
\`\`\`

Answer with the corrected code only, replacing the code above as a whole.
`,
  "doc.md": `---
name: doc
description: Write a documentation comment for the selection in the language's convention; proposes a reviewed edit.
context: selection
mode: doc
---
Write the documentation comment for this {{language}} code from \`{{path}}\`, in the convention of the language
({{docStyle}}): what it does, its parameters, what it returns, what it throws.

\`\`\`{{language}}
{{code}}
\`\`\`

Answer with the comment only, including its comment markers.
`,
  "tests.md": `---
name: tests
description: Generate unit tests for the selection (or the file) into a new test file; proposes it for review.
context: selection
mode: newFile
---
Write unit tests for this {{language}} code from \`{{path}}\`, with the test framework the project most likely
uses. Cover normal cases, edge cases and errors.

\`\`\`{{language}}
{{code}}
\`\`\`

Answer with a file name for the tests (next to \`{{path}}\`) and the complete test file.
`,
  "edit.md": `---
name: edit
description: Change the selection as you describe; proposes a reviewed edit.
context: selection
mode: edit
input: How should the selection change?
---
Change this {{language}} code from \`{{path}}\` as follows: {{input}}

\`\`\`{{language}}
{{code}}
\`\`\`

Answer with the new code only, replacing the code above as a whole.
`,
  "ask.md": `---
name: ask
description: Ask a question about the current file.
context: file
mode: chat
input: What do you want to know about this file?
---
{{input}}

\`{{path}}\`:
\`\`\`{{language}}
{{code}}
\`\`\`
`,
};
