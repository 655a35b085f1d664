/**
 * Static-shape ONNX graph builder (opset 18) for the training engine.
 *
 *   const g = new GraphBuilder('block');
 *   const x = g.input('x', 'float32', [2, 4, 8, 8]);
 *   const w = g.param('conv.weight', [8, 4, 3, 3], initValues);
 *   const y = g.silu(g.groupNorm(g.conv(x, w, null, { pads: [1, 1, 1, 1] }), 2));
 *   g.output(y, 'y');
 *   const bytes = serializeGraph(g);             // ONNX protobuf for onnxruntime-web
 *   const out = await runGraph(g, { x: data });   // Node tests: wasm EP (./runWasm, kept out of this barrel
 *                                                 // so app bundles don't pull onnxruntime-web in statically)
 */
export { GraphBuilder, MAX_BINDING_WAYS, attr, attrInts, attrNum, ONNX_DTYPE } from './builder';
export type { ConvOptions, ConvTransposeOptions, GemmOptions, LayerNormOptions } from './builder';
export { Tensor } from './types';
export type { Attr, Attrs, DType, GraphNode, Initializer, ParamGroup, Shape, TensorData } from './types';
export { broadcastShapes, sameShape, sizeOf, fmt as formatShape } from './shape';
export { serializeGraph, liveNodes, OPSET, IR_VERSION } from './serialize';
export { blockedMean, blockedSum } from './blockedReduce';
export type { SerializeOptions } from './serialize';
