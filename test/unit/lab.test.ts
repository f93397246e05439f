/**
 * The model lab's pure parts (lab/README.md): text preparation shared by training and Hearth's embedding
 * service, the vocabulary builders, and the F16 conversion of the GGUF writer.
 */
import { describe, expect, it } from "vitest";
import { bpeVocabulary, spmEscape, wordPieceVocabulary, wpmWords } from "../../lab/vocab";
import { embeddingWords } from "../../sidecar/embeddingText/identifierWords";
import { toHalf } from "../fixtures/synthetic/ggufWriter";

describe("embeddingWords", () => {
  it("splits identifiers into lower-case words and keeps punctuation", () => {
    expect(embeddingWords("getHTTPResponse(user_id) {\n\treturn  x2;\n}")).toBe(
      "get http response ( user id ) { return x 2 ; }",
    );
  });
  it("drops words too long to be names", () => {
    expect(embeddingWords(`a ${"x".repeat(80)} b`)).toBe("a b");
  });
});

describe("wordPieceVocabulary", () => {
  const texts = ["return the sum of two numbers", "sum numbers quickly", "the numbers are summed", "(a, b) => a + b"];
  const vocab = wordPieceVocabulary([...texts, ...texts, ...texts], 60);

  it("puts the special tokens first and stays within the size", () => {
    expect(vocab.slice(0, 5)).toEqual(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
    expect(vocab.length).toBeLessThanOrEqual(60);
    expect(new Set(vocab).size).toBe(vocab.length);
  });
  it("has every frequent character as a word start and as a continuation, and frequent whole words", () => {
    for (const c of "sumbr") expect(vocab).toContain(`▁${c}`);
    expect(vocab).toContain("s");
    expect(vocab).toContain("▁numbers");
  });
  it("splits text into words the way llama.cpp's WPM tokenizer does", () => {
    expect(wpmWords("Foo.barBaz(x, 42)")).toEqual(["foo", ".", "barbaz", "(", "x", ",", "42", ")"]);
  });
});

describe("bpeVocabulary", () => {
  it("merges the most frequent pair first and escapes spaces as ▁", () => {
    const { chars, pieces } = bpeVocabulary(["return a;\nreturn b;\nreturn c;"], 3, 1);
    expect(chars).toContain("▁");
    expect(pieces[0]?.length).toBe(2);
    expect("return").toContain(pieces[0]);
    expect(spmEscape("a b")).toBe("a▁b");
  });
});

describe("toHalf", () => {
  it("rounds to IEEE binary16 like numpy's float16", () => {
    // Reference bits from numpy: np.float16(x).view(np.uint16).
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(0.1)).toBe(11878);
    expect(toHalf(65504)).toBe(31743);
    expect(toHalf(3e-5)).toBe(503);
    expect(toHalf(1e-6)).toBe(17);
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(toHalf(0)).toBe(0);
  });
});
