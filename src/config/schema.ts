import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import { OPTIMIZER_KINDS } from '../../optimizers/index.ts';
import { BACKEND_CHOICES } from '../train/backend-choices.ts';
import { COLLECTIVE_CHOICES } from '../../comm/collectives/choices.ts';

/**
 * The experiment schema (JSON Schema, validated by ajv). Every key has a description with its
 * unit and a default; `dtemu validate` fills defaults and writes the resolved config.
 * Quantities with units are strings carrying `x-quantity` and are parsed by mathjs.
 */
const quantity = (kind: 'bandwidth' | 'time' | 'flops', def: string, description: string) => ({
  type: 'string',
  'x-quantity': kind,
  default: def,
  description,
});

const optionalQuantity = (kind: 'bandwidth' | 'time', description: string) => ({ type: 'string', 'x-quantity': kind, description });

const linkSpec = (description: string) => ({
  type: 'object',
  additionalProperties: false,
  description,
  properties: {
    bandwidth: optionalQuantity('bandwidth', 'Bandwidth.'),
    latency: optionalQuantity('time', 'Latency.'),
  },
});

export const experimentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['data', 'model', 'optimizer'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100, description: 'Run name (defaults to the file name; at most 100 characters, it names the run directory).' },
    seed: { type: 'integer', minimum: 0, default: 1, description: 'Root seed of every random stream.' },
    workers: { type: 'integer', minimum: 1, default: 4, description: 'Number of logical workers (at most limits.maxWorkers).' },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Caps that catch a typo before it costs hours or all memory; raise them deliberately.',
      properties: {
        // The network model keys (from, to) node pairs in radix 2^21 (src/sim/network-model.ts
        // PAIR_BASE); workers + the server must stay below it or distinct pairs collide.
        maxWorkers: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1024, description: 'Largest accepted workers (at most 1,000,000: the network model numbers node pairs in radix 2^21).' },
        maxSteps: { type: 'integer', minimum: 1, default: 1000000, description: 'Largest accepted train.steps.' },
        memoryFraction: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 4,
          default: 0.5,
          description: "Estimated bytes of data and model state (every worker's copies) may use at most this fraction of the machine's total memory.",
        },
      },
    },
    backend: { enum: [...BACKEND_CHOICES], default: 'auto', description: 'tfjs backend: auto tries node-gpu, node, wasm, cpu; node-gpu and node need their npm package installed (README, GPU and native backends), else the config is rejected.' },
    transport: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'How workers exchange bytes.',
      properties: {
        kind: { enum: ['ws', 'inproc'], default: 'ws', description: 'ws: worker OS processes over WebSocket; inproc: all workers in the coordinator process.' },
        processes: { type: 'integer', minimum: 1, description: 'ws: number of worker processes; logical workers are packed in contiguous blocks (default one per core, at most one per worker; one per worker with crash faults or spawn: false).' },
        host: { type: 'string', default: '127.0.0.1', description: 'ws: address the coordinator binds.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'ws: port (0 = any free port).' },
        spawn: { type: 'boolean', default: true, description: 'ws: spawn local worker processes; false waits for `dtemu worker --join` from other hosts.' },
        maxMessageBytes: { type: 'integer', minimum: 1024, default: 268435456, description: 'ws: largest frame accepted (bytes).' },
        batchCollectives: {
          type: 'boolean',
          default: true,
          description:
            'When every worker of a ring lives in one process, run each all-reduce as one batched operation (the same values, bits and virtual times as sending every message; false sends them one by one).',
        },
        heartbeatTimeout: quantity(
          'time',
          '60 s',
          'ws: a worker silent this long (wall clock) once it is ready is reported dead (>= 1 s; spawned workers that exit are reported at once). Start-up is timed by startupTimeout.',
        ),
        startupTimeout: quantity('time', '300 s', 'ws: wall time a worker process may take from joining to ready (backend, data loading) before it is reported stuck; spawned processes must also all join within it.'),
      },
    },
    data: {
      type: 'object',
      additionalProperties: false,
      description: 'The data: a built-in `dataset`, your own files (`format: csv | npy | idx`, `train`, `test`), or your own `module` (its options beside).',
      properties: {
        format: {
          enum: ['csv', 'npy', 'idx'],
          description:
            'Your own data instead of `dataset`: csv (numbers, one sample per line, an optional header line; the label in `labelColumn`); npy (NumPy .npy files, inputs and labels apart); idx (MNIST\'s IDX files, gzipped or not, images and labels apart). npy/idx inputs of unsigned bytes are image data, scaled to [0, 1].',
        },
        train: {
          type: ['string', 'object'],
          additionalProperties: false,
          required: ['x', 'y'],
          properties: {
            x: { type: 'string', description: 'format npy | idx: the inputs file, shape (samples, ...sample shape).' },
            y: { type: 'string', description: 'format npy | idx: the labels file, shape (samples,).' },
          },
          description: 'format: the training data, relative to the experiment file: csv: one file; npy | idx: `{ x: inputs file, y: labels file }`.',
        },
        test: {
          type: ['string', 'object'],
          additionalProperties: false,
          required: ['x', 'y'],
          properties: {
            x: { type: 'string', description: 'format npy | idx: the inputs file.' },
            y: { type: 'string', description: 'format npy | idx: the labels file.' },
          },
          description: 'format: the test data, like `train`.',
        },
        labelColumn: { type: 'integer', description: 'format csv: the label\'s column, 0-based, negative from the end (default -1, the last).' },
        task: { enum: ['classification', 'regression'], description: 'format: labels are class indices 0..k-1 (default) or real targets.' },
        module: { type: 'string', description: 'A JS/TS module whose default export (defineDataset) returns the arrays (path relative to the experiment file).' },
        dataset: {
          enum: ['fashion-mnist', 'linear', 'logistic', 'blobs', 'moby-dick'],
          description: 'Data set: Fashion-MNIST, a synthetic one generated from the seed, or moby-dick (next-character prediction on the novel, shipped by an npm package).',
        },
        partition: { enum: ['iid', 'dirichlet', 'shards'], default: 'iid', description: 'How training samples are split over workers.' },
        alpha: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'dirichlet: concentration (small = more skewed).' },
        shardsPerWorker: { type: 'integer', minimum: 1, default: 2, description: 'shards: label-sorted shards per worker.' },
        batchSize: { type: 'integer', minimum: 1, default: 32, description: 'Per-worker mini-batch size (samples).' },
        samples: { type: 'integer', minimum: 1, default: 10000, description: 'Synthetic: training samples; moby-dick: training windows (one drawn from the seed in each of this many equal stretches of the first 90% of the text; at most all of them).' },
        testSamples: { type: 'integer', minimum: 1, default: 2000, description: 'Synthetic: test samples; moby-dick: test windows, evenly spaced over the last 10% of the text (the same for every seed).' },
        context: { type: 'integer', minimum: 1, maximum: 1024, default: 32, description: 'moby-dick: characters of input per sample; the label is the next character.' },
        lowercase: { type: 'boolean', default: false, description: 'moby-dick: lower-case the text first (a smaller vocabulary).' },
        minCharCount: {
          type: 'integer',
          minimum: 1,
          default: 50,
          description: 'moby-dick: characters seen fewer times in the book become one unknown token (id 0); the rest get ids 1.. in code-point order.',
        },
        features: { type: 'integer', minimum: 1, default: 20, description: 'Synthetic: input dimension.' },
        classes: { type: 'integer', minimum: 2, default: 4, description: 'blobs: number of clusters.' },
        noise: { type: 'number', minimum: 0, default: 0.5, description: 'Synthetic: label noise (linear) or cluster spread (blobs).' },
      },
    },
    model: {
      type: 'object',
      additionalProperties: false,
      description: 'A built-in model `kind`, or your own `module` (a tfjs LayersModel; its options beside).',
      properties: {
        module: { type: 'string', description: 'A JS/TS module whose default export (defineModel) builds a tfjs LayersModel (path relative to the experiment file).' },
        kind: { enum: ['logistic', 'linear', 'mlp', 'cnn', 'char-lstm'], description: 'Model family (char-lstm: embedding, one LSTM layer, dense output; for moby-dick).' },
        hidden: { type: 'array', items: { type: 'integer', minimum: 1 }, default: [128], description: 'mlp: hidden layer sizes.' },
        channels: { type: 'array', items: { type: 'integer', minimum: 1 }, default: [8, 16], description: 'cnn: channels of each 3x3 conv + 2x2 max-pool block.' },
        kernel: { type: 'integer', minimum: 1, default: 3, description: 'cnn: convolution kernel size.' },
        embed: { type: 'integer', minimum: 1, default: 16, description: 'char-lstm: embedding size per character.' },
        lstmHidden: { type: 'integer', minimum: 1, default: 128, description: 'char-lstm: LSTM hidden (and cell) size.' },
      },
    },
    optimizer: {
      type: 'object',
      required: ['kind'],
      description: 'The distributed algorithm: `kind` picks it, and only that algorithm\'s keys apply (see the per-algorithm tables below).',
      properties: {
        kind: { enum: [...OPTIMIZER_KINDS], description: 'Distributed algorithm (optimizers/<kind>/, one registry line in optimizers/registry.ts).' },
      },
    },
    topology: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        kind: {
          enum: ['ring', 'star', 'switch', 'tree', 'torus', 'hierarchical', 'graph'],
          default: 'ring',
          description:
            'ring: neighbour links; star: parameter server (one shared port); switch: full-duplex NICs into one non-blocking switch; tree: k-ary tree of switches; torus: 2-D/3-D wrap-around grid; hierarchical: groups on switches joined by inter links; graph: listed, loaded or generated links.',
        },
        collective: {
          enum: [...COLLECTIVE_CHOICES],
          default: 'ring',
          description: 'All-reduce / all-gather / broadcast algorithm of the workers (not the star, whose parameter server aggregates): auto picks the fastest under the network model per message size (on a network with faults or traces, collectives timed as a unit choose from the ranks\' entry times; summary.json collective.ran lists what ran).',
        },
        server: linkSpec('star: the server port (default the network link).'),
        shared: { type: 'boolean', default: true, description: 'star: false gives the server one port per worker (no single bottleneck).' },
        up: optionalQuantity('bandwidth', 'switch: NIC bandwidth towards the switch (default network.bandwidth).'),
        down: optionalQuantity('bandwidth', 'switch: NIC bandwidth from the switch (default network.bandwidth).'),
        arity: { type: 'integer', minimum: 2, default: 4, description: 'tree: children per switch.' },
        oversubscription: { type: 'number', minimum: 1, default: 1, description: 'tree: bandwidth below a switch / its uplink bandwidth (1: fat tree).' },
        dims: { type: 'array', items: { type: 'integer', minimum: 2 }, description: 'torus: dimensions, e.g. [4, 4] (product = workers); graph generate grid: [w, h].' },
        groups: {
          anyOf: [{ type: 'integer', minimum: 1 }, { type: 'array', items: { type: 'integer', minimum: 1 } }],
          description: 'hierarchical: number of equal groups, or the list of group sizes (adding up to workers).',
        },
        intra: linkSpec('hierarchical: links inside a group (default the network link).'),
        inter: linkSpec('hierarchical: links between group gateways (default the network link).'),
        links: {
          type: 'array',
          description: 'graph: undirected links, [a, b] or {a, b, bandwidth, latency, weight} (weight: the gossip mixing weight W_ab = W_ba read by optimizer.mixing: graph).',
          items: {
            anyOf: [
              { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
              {
                type: 'object',
                additionalProperties: false,
                required: ['a', 'b'],
                properties: { a: { type: 'integer', minimum: 0 }, b: { type: 'integer', minimum: 0 }, bandwidth: { type: 'string', 'x-quantity': 'bandwidth' }, latency: { type: 'string', 'x-quantity': 'time' }, weight: { type: 'number', minimum: 0, maximum: 1 } },
              },
            ],
          },
        },
        file: { type: 'string', description: 'graph: CSV (a,b[,bandwidth[,latency[,weight]]] per line) or JSON ([{a, b, bandwidth?, latency?, weight?}]) of links, relative to the experiment file.' },
        generate: {
          type: 'object',
          additionalProperties: false,
          required: ['kind'],
          description: 'graph: a generated graph (ring-lattice of even degree k, 2-D grid of dims, exponential, erdos-renyi with p from the seed).',
          properties: {
            kind: { enum: ['ring-lattice', 'grid', 'exponential', 'erdos-renyi'] },
            k: { type: 'integer', minimum: 2, description: 'ring-lattice: degree (even).' },
            p: { type: 'number', description: 'erdos-renyi: link probability.' },
            dims: { type: 'array', items: { type: 'integer', minimum: 1 }, description: 'grid: [w, h].' },
          },
        },
      },
    },
    network: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        bandwidth: quantity('bandwidth', '1 Gb/s', 'Per-link bandwidth.'),
        latency: quantity('time', '50 us', 'Per-link latency.'),
        sharing: {
          enum: ['max-min', 'fifo'],
          default: 'max-min',
          description:
            "How concurrent transfers share a link: max-min fair (progressive filling; a unit-timed collective's flows, a star master round's pushes on the server's ingress and its replies on the egress, asynchronous pushes in flight on the ingress and their replies on the egress) or first come first served per sender (the original model).",
        },
        nodes: {
          type: 'object',
          default: {},
          description: 'Per-node overrides of its own links, e.g. { 3: { bandwidth: 10 Mb/s, latency: 40 ms } }.',
          additionalProperties: linkSpec('Bandwidth and/or latency of the node\'s links.'),
        },
        traces: {
          type: 'array',
          default: [],
          description: 'Bandwidth traces replayed piecewise-constant in virtual time on a link or on a node\'s own links.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['file'],
            properties: {
              link: { type: 'string', description: 'Link id (e.g. up-3, g0->g1).' },
              node: { type: 'integer', minimum: 0, description: 'Node whose own links follow the trace.' },
              file: { type: 'string', description: 'CSV of time,bandwidth[,latency] (units or s, b/s), relative to the experiment file; times strictly increasing.' },
            },
          },
        },
        links: {
          type: 'object',
          default: {},
          description: 'Per-link overrides by link id (e.g. up-3, g0->g1, 2->3).',
          additionalProperties: linkSpec('Bandwidth and/or latency of the link.'),
        },
      },
    },
    compute: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        mode: { enum: ['modelled', 'measured'], default: 'modelled', description: 'modelled: FLOPs / speed (deterministic); measured: real wall time of the step.' },
        speed: quantity('flops', '1 TFLOP/s', 'modelled: speed of one worker.'),
      },
    },
    stragglers: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        slow: {
          type: 'array',
          default: [],
          description: 'Persistently slow workers: compute time multiplied by factor.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['worker', 'factor'],
            properties: {
              worker: { type: 'integer', minimum: 0, description: 'Worker rank.' },
              factor: { type: 'number', minimum: 1, description: 'Slowdown factor (>= 1).' },
            },
          },
        },
        delay: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Random extra delay per compute step.',
          properties: {
            kind: { enum: ['none', 'shifted-exponential', 'pareto', 'bimodal'], default: 'none', description: 'Delay distribution.' },
            shift: quantity('time', '0 s', 'shifted-exponential: constant part of the delay.'),
            mean: quantity('time', '0 s', 'shifted-exponential: mean of the exponential part.'),
            scale: quantity('time', '1 ms', 'pareto: scale x_m (the smallest delay).'),
            shape: { type: 'number', exclusiveMinimum: 0, default: 2, description: 'pareto: tail index alpha (<= 2: infinite variance).' },
            p: { type: 'number', minimum: 0, maximum: 1, default: 0.1, description: 'bimodal: probability that a worker-step is slow.' },
            slow: quantity('time', '100 ms', 'bimodal: delay of a slow worker-step.'),
            fast: quantity('time', '0 s', 'bimodal: delay of a normal worker-step.'),
            workers: { type: 'array', items: { type: 'integer', minimum: 0 }, description: 'Only these workers are delayed (default all).' },
          },
        },
      },
    },
    faultsModule: {
      type: 'string',
      description: 'Programmable faults: a JS/TS module (path relative to the experiment file) whose default export maps { worker, step, time } to { slow?, stall? }.',
    },
    faults: {
      type: 'array',
      default: [],
      description: 'Fault timeline: slow a worker for a window, stall it, change a link, crash a worker, partition the network, or make workers Byzantine (see "Fault injection" in the README).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind'],
        properties: {
          kind: {
            enum: ['slow', 'stall', 'link', 'crash', 'partition', 'byzantine'],
            description:
              'slow: compute x factor for a window; stall: pause for duration; link: other bandwidth/latency for a window; crash: the worker dies at step `at` (and optionally rejoins); partition: `workers` cut off from the rest for a time window; byzantine: `workers` send what `attack` makes of their gradient from step `from` on.',
          },
          worker: { type: 'integer', minimum: 0, description: 'slow, stall, crash: the worker.' },
          workers: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 }, description: 'partition: the workers on one side; byzantine: the attacking workers.' },
          factor: { type: 'number', description: 'slow: compute-time factor (>= 1); byzantine scaled: the factor the gradient is multiplied by.' },
          attack: {
            enum: ['sign-flip', 'gaussian', 'scaled', 'label-flip', 'a-little-is-enough'],
            description:
              'byzantine: sign-flip sends -scale x g; gaussian sends N(mean, std^2) noise; scaled sends factor x g; label-flip trains on labels C-1-y; a-little-is-enough sends mean - z std of the honest gradients (Baruch et al. 2019; see comm/byzantine/README.md).',
          },
          from: { type: 'integer', minimum: 1, description: 'byzantine: the first step attacked (default 1).' },
          scale: { type: 'number', description: 'byzantine sign-flip: the scale (default 1).' },
          std: { type: 'number', description: 'byzantine gaussian: the noise standard deviation (required).' },
          mean: { type: 'number', description: 'byzantine gaussian: the noise mean (default 0).' },
          z: { type: 'number', description: 'byzantine a-little-is-enough: z (default from n and the number of attackers, Baruch et al. Algorithm 1).' },
          at: { type: ['integer', 'string'], description: 'Start (every kind but byzantine): a step number, or a virtual time with units ("1.5 s"). link: a time.' },
          for: { type: ['integer', 'string'], description: 'Window length: steps or a time (default: until the end).' },
          duration: { type: 'string', description: 'stall: how long ("2 s").' },
          rejoin: {
            type: ['integer', 'string'],
            description:
              'crash: a fresh worker takes its place at a round of the master (every step for gradient-coding, every synchronization for diloco on a star): N steps = the first round ending at or after step at + N - 1; a time ("2 s") = the first round ending that long after the first round it missed (virtual time).',
          },
          link: { type: 'string', description: 'link: "A->B" between neighbours on a ring, "server-in" / "server-out" on a star.' },
          bandwidth: { type: 'string', description: 'link: bandwidth during the window ("10 Mb/s").' },
          latency: { type: 'string', description: 'link: latency during the window ("5 ms").' },
        },
      },
    },
    sweep: {
      type: 'object',
      additionalProperties: false,
      description: '`dtemu sweep`: runs every combination of the grid (x every seed); `dtemu run` ignores this block.',
      properties: {
        grid: {
          type: 'object',
          default: {},
          additionalProperties: { type: 'array', minItems: 1 },
          description: 'Dotted key -> list of values, e.g. "optimizer.localSteps: [1, 4, 8]".',
        },
        seeds: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 }, description: 'Repeat every grid point with these seeds (default: the seed key).' },
        parallel: { type: 'integer', minimum: 1, maximum: 16, default: 1, description: 'Runs at once (each ws run already uses one process per worker).' },
      },
    },
    train: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        steps: { type: 'integer', minimum: 1, default: 100, description: 'Synchronous steps (rounds).' },
        evalEvery: { type: 'integer', minimum: 1, default: 100, description: 'Evaluate on the test set every this many steps (and at the end).' },
        evalSamples: { type: 'integer', minimum: 1, description: 'Evaluate on the first N test samples (default all).' },
        target: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Report the first simulated time / bits / step at which a target is met.',
          properties: {
            accuracy: { type: 'number', minimum: 0, maximum: 1, description: 'Test accuracy target.' },
            loss: { type: 'number', minimum: 0, description: 'Test loss target.' },
          },
        },
      },
    },
  },
} as const;

/** The optimizer block of one algorithm: `kind` and its own keys, nothing else. */
export function optimizerSchemaFor(a: Algorithm<OptimizerConfig>): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['kind', ...(a.required ?? [])],
    description: a.description,
    properties: { kind: experimentSchema.properties.optimizer.properties.kind, ...a.options },
  };
}

/** The experiment schema for a config whose optimizer is `a`. */
export function experimentSchemaFor(a: Algorithm<OptimizerConfig>): Record<string, unknown> {
  return { ...experimentSchema, properties: { ...experimentSchema.properties, optimizer: optimizerSchemaFor(a) } };
}
