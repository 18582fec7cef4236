# Nsight Compute's counters per kernel (tools/gpu_03e_hbm.sh's --csv output) against the bytes each kernel must read at 64 x 8k
import csv, sys
from collections import defaultdict
lines = open(sys.argv[1]).read().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith('"ID"'))
rows = list(csv.DictReader(lines[start:]))
per = defaultdict(dict)
for r in rows:
    try: v = float(r["Metric Value"].replace(",", ""))
    except ValueError: continue
    unit = r.get("Metric Unit", "")
    scale = {"Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "byte": 1, "usecond": 1e3, "msecond": 1e6, "nsecond": 1}.get(unit, 1)
    per[(int(r["ID"]), r["Kernel Name"][:40])][r["Metric Name"]] = v * scale
seen = defaultdict(int)
def label_of(kname):                                                  # launch order of tools/gpu_03e_hbm.sh's --ncu run
    for key, labels in (("combine", ["combine"] * 3), ("fp8_gluon", ["03e interleaved", "03e page-planar"]),
                        ("probe", ["probe interleaved 7", "probe page-planar 6", "probe bf16"]), ("mla", ["03 bf16"])):
        if key in kname:
            seen[key] += 1
            return labels[min(seen[key], len(labels)) - 1]
    return kname[:22]
print(f"{'kernel':<22} {'us':>7} {'DRAM MB':>8} {'/ needed':>8} {'L2 read MB':>10} {'/ needed':>8} {'requests M':>10} {'sectors/req':>11}")
for (kid, kname), m in sorted(per.items()):                          # L2 columns: the SM's (TMA and load) reads, 32-byte sectors
    label = label_of(kname)
    need = 64 * 8192 * (1152 if "bf16" in label else 656)
    dram, req, t = m.get("dram__bytes_read.sum"), m.get("lts__t_requests_srcunit_tex_op_read.sum"), m.get("gpu__time_duration.sum")
    sec = m.get("lts__t_sectors_srcunit_tex_op_read.sum")
    l2 = sec * 32 if sec is not None else None
    f = lambda x, d, w, p=2: f"{x / d:>{w}.{p}f}" if x is not None else f"{'-':>{w}}"
    print(f"{label:<22} {f(t, 1e3, 7, 1)} {f(dram, 1e6, 8, 1)} {f(dram, need, 8)} {f(l2, 1e6, 10, 1)} {f(l2, need, 8)} {f(req, 1e6, 10)} "
          f"{(sec / req if sec and req else float('nan')):>11.2f}   ({kname})")
