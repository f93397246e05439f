import type { DOMPurify as DOMPurifyInstance } from "dompurify";
import { Marked } from "marked";

/**
 * Markdown → safe HTML for model output. Model text is untrusted (it can echo HTML or be steered by a prompt
 * injection), so after `marked` renders it, DOMPurify keeps a small allowlist of formatting tags:
 * no scripts, no event-handler attributes, no forms, no images (a remote image URL is a data-exfiltration channel),
 * no styles, and links only to http(s) and mailto. The webview's CSP (nonce, no inline handlers) is the second wall.
 */
const marked = new Marked({ gfm: true, breaks: false, async: false });

const ALLOWED_TAGS = [
  "a",
  "b",
  "blockquote",
  "br",
  "code",
  "del",
  "details",
  "em",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "hr",
  "i",
  "li",
  "ol",
  "p",
  "pre",
  "s",
  "span",
  "strong",
  "sub",
  "summary",
  "sup",
  "table",
  "tbody",
  "td",
  "th",
  "thead",
  "tr",
  "ul",
];

/** The one `class` kept: marked's `language-xxx` on a fenced code block. Any other would let model output dress
 * up as the chat's own UI (a notice, a button, a hit link), which the view's CSS styles by class. */
const CODE_LANGUAGE_CLASS = /^language-[\w#+.-]{1,40}$/;
const hooked = new WeakSet<DOMPurifyInstance>();

/**
 * Render markdown to sanitized HTML.
 * @param purify a DOMPurify instance bound to a window (the webview's, or jsdom's in tests).
 */
export function renderMarkdown(markdown: string, purify: DOMPurifyInstance): string {
  if (!hooked.has(purify)) {
    purify.addHook("uponSanitizeAttribute", (node, data) => {
      if (data.attrName === "class" && !(node.nodeName === "CODE" && CODE_LANGUAGE_CLASS.test(data.attrValue))) {
        data.keepAttr = false;
      }
    });
    hooked.add(purify);
  }
  const html = marked.parse(markdown) as string;
  return purify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["href", "title", "class", "start", "align"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    ALLOW_DATA_ATTR: false,
    RETURN_TRUSTED_TYPE: false,
  }) as unknown as string;
}
