"""The quickstart job (experiments/quickstart.yaml) as a PyTorch DDP script, the peer dtemu is
compared with in bench/peer-pytorch.ts: gloo, 4 processes on this machine, MLP 784-128-10,
batch 32 per process, SGD (lr 0.1, momentum 0.9), 600 steps, test evaluation every 100 steps
by rank 0, one thread per process. Data: Debian's dataset-fashion-mnist, pixels / 255, an iid
shard per rank. Prints one JSON line: wall seconds, CPU seconds (all processes), final accuracy.

    python3 bench/pytorch/ddp_quickstart.py [--steps 600] [--workers 4]
"""
import argparse
import gzip
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

DATA = '/usr/share/datasets/fashion-mnist'


def idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def worker(rank, world, steps, eval_every, port, out):
    torch.set_num_threads(1)
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.manual_seed(1)
    x = torch.from_numpy(idx('train-images-idx3-ubyte.gz').reshape(-1, 784).astype(np.float32) / 255.0)
    y = torch.from_numpy(idx('train-labels-idx1-ubyte.gz').astype(np.int64))
    shard = torch.from_numpy(np.random.default_rng(1).permutation(len(x))[rank::world].copy())
    model = DDP(nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    gen = torch.Generator().manual_seed(1000 + rank)
    if rank == 0:
        tx = torch.from_numpy(idx('t10k-images-idx3-ubyte.gz').reshape(-1, 784).astype(np.float32) / 255.0)
        ty = torch.from_numpy(idx('t10k-labels-idx1-ubyte.gz').astype(np.int64))
    dist.barrier()
    t0 = time.perf_counter()
    acc = None
    for step in range(1, steps + 1):
        b = shard[torch.randint(len(shard), (32,), generator=gen)]
        opt.zero_grad()
        F.cross_entropy(model(x[b]), y[b]).backward()
        opt.step()
        if rank == 0 and (step % eval_every == 0 or step == steps):
            with torch.no_grad():
                acc = (model.module(tx).argmax(1) == ty).float().mean().item()
    dist.barrier()
    if rank == 0:
        out.put({'trainWallSec': time.perf_counter() - t0, 'finalAccuracy': acc})
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=600)
    p.add_argument('--workers', type=int, default=4)
    p.add_argument('--eval-every', type=int, default=100)
    a = p.parse_args()
    t0 = time.perf_counter()
    ctx = mp.get_context('spawn')
    out = ctx.SimpleQueue()
    port = 29500 + os.getpid() % 1000
    procs = [ctx.Process(target=worker, args=(r, a.workers, a.steps, a.eval_every, port, out)) for r in range(a.workers)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join()
    if any(pr.exitcode != 0 for pr in procs):
        sys.exit(1)
    res = out.get()
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    res.update({
        'wallSec': time.perf_counter() - t0,
        'cpuSec': ch.ru_utime + ch.ru_stime + me.ru_utime + me.ru_stime,
        'steps': a.steps,
        'workers': a.workers,
        'torch': torch.__version__,
    })
    print(json.dumps(res))


if __name__ == '__main__':
    main()
