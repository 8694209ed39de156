import gc, statistics, sys, time
sys.path.insert(0, "bench")
from bench_fusion import scenario
from vigil.fusion import FusionConfig, FusionEngine
n = int(sys.argv[1])
batch = scenario(n, 1)
list(FusionEngine(FusionConfig(tracks=True)).run(scenario(n, 2)))
gc.freeze()
cpu = {False: [], True: []}
for i in range(int(sys.argv[2])):
    for tracks in ((False, True) if i % 2 == 0 else (True, False)):
        t0 = time.thread_time()
        w = sum(len(ws) for _, ws in FusionEngine(FusionConfig(tracks=tracks)).run(batch))
        cpu[tracks].append(time.thread_time() - t0)
off, on = statistics.median(cpu[False]), statistics.median(cpu[True])
print(f"launches={n} obs={len(batch)} warnings={w} pairs={len(cpu[True])} thread CPU median: tracks off {off*1e3:.1f} ms "
      f"({len(batch)/off:.0f} obs/CPU s), on {on*1e3:.1f} ms ({len(batch)/on:.0f} obs/CPU s); on/off {on/off:.3f}")
print("off", [round(x*1e3,1) for x in cpu[False]]); print("on ", [round(x*1e3,1) for x in cpu[True]])
