#!/bin/bash
# user_data.sh RUNTIME (issue 12): users' data and Python where they live, with the daemons from
# the host install (none) or the test image (apptainer). One job, two clusters in a row:
#   1. with HDFS, --python VENV and --bind DIR;
#   2. with --no-hdfs, PYSPARK_PYTHON=VENV and SPARK_SLURM_BIND=DIR.
# Each runs a word count from file:// input in the submit directory to file:// output there
# (checked against a count made here without Spark), executors that import a package installed
# only in a venv the test makes on the shared filesystem, and executors that read files from a
# directory outside the submit dir named only by the bind (and, in a container, one named only
# by APPTAINER_BIND). The driver must see the user's PATH and LD_LIBRARY_PATH, the submit dir as
# its working directory, SPARK_HOME of the daemons' Spark, and spark-submit, pyspark and hdfs.
runtime=$1
SMOKE_NAME=user_data_$runtime
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ $runtime == apptainer && ! -f $SPARK_SLURM_TEST_IMAGE ]]; then
    fail "the test image $SPARK_SLURM_TEST_IMAGE is missing (singularity/make-offline-archive builds it)"
fi
clean_node_scratch
as_user() { "$RUN_AS_USER" bash -c "cd '$WORK' && $1"; }

# The input: 20,000 generated lines over a 500-word vocabulary, deterministic.
"$WORDCOUNTS" make "$WORK/input.txt" --seed 20261127
chown "$SPARK_SLURM_TEST_USER" "$WORK/input.txt"
copy_in "$LAUNCHER_HERE/user_data_app.py" "$LAUNCHER_HERE/user_data_driver.sh"

# Directories outside the submit dir (so a container sees them only when bound), kept with the
# work dir on failure, like the venv below.
extra=$WORK-bind
site=$WORK-site
install -d -o "$SPARK_SLURM_TEST_USER" "$extra" "$site"
seq 1 37 >"$extra/extra.txt"
seq 1 41 >"$site/site.txt"

# The user's venv on the shared filesystem, with a package nothing else has; outside the submit
# dir, so that a container sees it only because it holds the chosen Python.
venv_dir=$WORK-venv
as_user "/usr/bin/python3 -m venv --system-site-packages --without-pip $venv_dir &&
    purelib=\$($venv_dir/bin/python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])') &&
    mkdir -p \"\$purelib/tinypkg\" &&
    printf 'def double(x):\n    return 2 * x\n' > \"\$purelib/tinypkg/__init__.py\"" ||
    fail "could not make the venv"
as_user "$venv_dir/bin/python -c 'import tinypkg'" || fail "tinypkg is not importable from the venv"
for python in /usr/bin/python3 "$SPARK_SLURM_TEST_PYSPARK_PYTHON"; do
    as_user "$python -c 'import tinypkg' 2>/dev/null" && fail "tinypkg is importable from $python too"
done
# The user's own tools and libraries (what a module adds to PATH and LD_LIBRARY_PATH).
install -d -o "$SPARK_SLURM_TEST_USER" "$WORK/tools" "$WORK/tools/bin" "$WORK/tools/lib"
printf '#!/bin/sh\necho ok\n' | write_script tools/bin/mytool

venv=$venv_dir/bin/python
site_file=-
[[ $runtime == apptainer ]] && site_file=/site-data/site.txt
srun_line="srun --ntasks-per-node=1 --cpus-per-task=$SPARK_SLURM_TEST_CPUS_PER_NODE --mpi=pmix spark-slurm run --runtime $runtime --ready-timeout 240"
write_script job.sh <<JOB
#!/bin/bash
#SBATCH -N3 --exclusive -t 15 -o job-%j.out
set -e
export PATH=$WORK/tools/bin:\$PATH
export LD_LIBRARY_PATH=$WORK/tools/lib
export APPTAINER_BIND=$site:/site-data
echo "STEP hdfs"
$srun_line --python $venv --bind $extra -- ./user_data_driver.sh hdfs $extra/extra.txt $site_file
echo "STEP no-hdfs"
PYSPARK_PYTHON=$venv SPARK_SLURM_BIND=$extra $srun_line --no-hdfs -- ./user_data_driver.sh no-hdfs $extra/extra.txt $site_file
JOB
submit job.sh
wait_done "$JOBID" 900
out=$(job_output "$JOBID")

if [[ $runtime == apptainer ]]; then spark_home=/opt/spark; else spark_home=$SPARK_SLURM_TEST_SPARK_HOME; fi
for mode in hdfs no-hdfs; do
    "$WORDCOUNTS" check "$WORK/input.txt" "$WORK/out-$mode" ||
        fail "$mode: the word counts written to file:// differ from the reference count"
    grep -qx "EXECUTORS $mode hosts=node2,node3 python=$venv version=3.11 spark_home=$spark_home tinypkg=ok" <<<"$out" ||
        fail "$mode: the executors on node2 and node3 did not import tinypkg from the venv with SPARK_HOME $spark_home"
    grep -qx "DRIVER $mode python=$venv version=3.11 spark_home=$spark_home" <<<"$out" ||
        fail "$mode: the driver did not run the venv's Python with SPARK_HOME $spark_home"
    grep -qx "DRIVER-ENV $mode pwd=$WORK spark_home=$spark_home spark_submit=$spark_home/bin/spark-submit pyspark=$spark_home/bin/pyspark hdfs=.*/bin/hdfs mytool=ok ld_library_path=$WORK/tools/lib.*" <<<"$out" ||
        fail "$mode: the driver's environment is not the user's plus the daemons' Spark"
    grep -qx "BIND $mode lines=37" <<<"$out" || fail "$mode: the executors did not read the bound directory"
    if [[ $runtime == apptainer ]]; then
        grep -qx "SITEBIND $mode lines=41" <<<"$out" || fail "$mode: the executors did not see APPTAINER_BIND"
    fi
done
grep -qx 'RELATIVE no-hdfs lines=20000' <<<"$out" || fail "no-hdfs: a relative path did not read the submit dir's input"
grep -q 'datanodes 2/2 live' <<<"$out" || fail "the first cluster had no HDFS"
[[ $(grep -c 'cluster ready in' <<<"$out") == 2 ]] || fail "expected two clusters to become ready"
assert_nothing_left
rm -rf "$extra" "$site" "$venv_dir"
pass "$(grep -Eo 'cluster ready in [0-9.]+ s' <<<"$out" | paste -sd' ')"
