export { decodeOneBit, decodeOneBitAdd, encodeOneBit, ONE_BIT_FORMAT, oneBitCompress, oneBitPayloadBytes } from './one-bit.ts';
export { OneBitAdamServer, OneBitAdamWorker, type OneBitAdamOptions } from './onebit-adam.ts';
export { ONEBIT_NAMESPACE, oneBitChunk, oneBitChunkedAllReduce, oneBitPushPull, oneBitServeRound } from './compressed-allreduce.ts';
