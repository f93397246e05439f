import { parseNesPredictParams } from "../../shared/guards";
import { DeltaCoalescer } from "../DeltaCoalescer";
import { predictNextEdit } from "../nes/predict";
import { method, type MethodContext, type MethodTable } from "./context";

/** Next-edit suggestions: `nes/predict` on the `nes` role (see `sidecar/nes/`). */
export function nesMethods(c: MethodContext): MethodTable<"nes/predict"> {
  return {
    "nes/predict": method(parseNesPredictParams, async (params, signal) => {
      await c.engines().ensure("nes");
      const engine = c.engines().nes();
      const info = c
        .engines()
        .loaded()
        .find((m) => m.role === "nes");
      const streamId = params.streamId;
      const stream = new DeltaCoalescer((text) => streamId && c.notify("chat/delta", { streamId, text }));
      try {
        return await predictNextEdit(
          engine,
          [info?.name, info?.path],
          params,
          (text) => streamId && stream.push(text),
          signal,
        );
      } finally {
        stream.flush();
      }
    }),
  };
}
