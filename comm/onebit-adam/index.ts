export { decodeOneBit, decodeOneBitAdd, encodeOneBit, ONE_BIT_FORMAT, oneBitCompress, oneBitPayloadBytes } from './one-bit.ts';
export { OneBitAdamServer, OneBitAdamWorker, type OneBitAdamOptions } from './onebit-adam.ts';
