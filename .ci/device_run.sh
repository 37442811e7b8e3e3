#!/bin/bash
# A notebook at the `paper` profile on a lent GPU machine (PyTorch, no Jupyter, no package index), within a deadline.
#
#   bash .ci/device_run.sh COMMIT SECONDS JOBS NOTEBOOK...     (run by the device tool from the repository root)
#
# Before the call, on the developer's machine: copy the data the notebooks read into .gpu/data (ignored by git via
# .git/info/exclude; the tool carries it with carry=[".gpu"]) and, to resume an earlier cut-short run, its grid cache
# as .gpu/grid-cache.tgz. The notebooks run one after another through .ci/execute_without_jupyter.py with
# RBMBOOK_JOBS grid cells in parallel on the one GPU; each stops at the deadline. Back in $OUT: each executed
# notebook and its log, each results file of a notebook that finished, and the grid cache (finished cells) as
# grid-cache.tgz, to carry to the next call or session. COMMIT is recorded as the results' provenance.
set -u
commit=$1 budget=$2 jobs=$3
shift 3
t0=$(date +%s)
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD MPLBACKEND=Agg RBMBOOK_DATA=$PWD/.gpu/data RBMBOOK_CACHE=/tmp/rbmcache \
       RBMBOOK_RESULTS=${OUT:?} RBMBOOK_PIN_CPU=0 RBMBOOK_GIT_COMMIT=$commit RBMBOOK_PROFILE=paper RBMBOOK_JOBS=$jobs
mkdir -p /tmp/rbmcache
[ -f .gpu/grid-cache.tgz ] && tar xzf .gpu/grid-cache.tgz -C /tmp/rbmcache
{ nvidia-smi -L; python3 -c "import sys, torch; print(sys.version.split()[0], torch.__version__)"; } | tee "$OUT/machine.txt"
for nb in "$@"; do
    name=$(basename "$nb" .ipynb)
    left=$((t0 + budget - $(date +%s)))
    [ "$left" -gt 30 ] || { echo "$name: no time left"; continue; }
    timeout "$left" python3 .ci/execute_without_jupyter.py "$nb" "$OUT/$name.paper.ipynb" > "$OUT/$name.paper.log" 2>&1
    echo "$name: exit $? after $(($(date +%s) - t0)) s"; tail -3 "$OUT/$name.paper.log"
done
sleep 2  # loky workers of a killed run exit
tar czf "$OUT/grid-cache.tgz" -C /tmp/rbmcache grid 2>/dev/null
ls -la "$OUT"
