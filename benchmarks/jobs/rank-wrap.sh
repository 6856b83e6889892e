#!/bin/bash
# rank-wrap.sh DIR CMD...: run CMD (the launcher on one rank) under /usr/bin/time and sample the
# launcher's OWN peak RSS (VmHWM) and CPU time (utime/stime of its own /proc/PID/stat, children
# excluded) every 0.2 s. /usr/bin/time's numbers include the daemons the launcher reaped (wait4
# rusage covers waited-for descendants), so they are recorded but are not "the launcher's own".
dir=$1
shift
rank=${SLURM_PROCID:-0}
stat=$dir/rank-$rank.stat
echo "start $(date +%s.%N) $(hostname)" >"$stat"
/usr/bin/time -f '%M %U %S %e' -o "$dir/rank-$rank.time" "$@" &
tpid=$!
trap 'true' TERM INT HUP   # a handler (not "ignore"): the launcher gets and handles the signal itself
lpid="" hwm=0 ut=0 st=0 rss=0 anon=0 file=0
while kill -0 "$tpid" 2>/dev/null; do
    [[ -z $lpid ]] && lpid=$(pgrep -P "$tpid" -n 2>/dev/null)
    if [[ -n $lpid && -r /proc/$lpid/stat ]]; then
        while read -r k v _; do
            case $k in VmHWM:) hwm=$v ;; VmRSS:) rss=$v ;; RssAnon:) ((v > anon)) && anon=$v ;; RssFile:) ((v > file)) && file=$v ;; esac
        done </proc/"$lpid"/status 2>/dev/null
        if read -r -a s </proc/"$lpid"/stat 2>/dev/null; then ut=${s[13]} st=${s[14]}; fi
    fi
    sleep 0.2
done
wait "$tpid"
rc=$?
echo "end $(date +%s.%N) rc=$rc hwm_kb=$hwm last_rss_kb=$rss max_rss_anon_kb=$anon max_rss_file_kb=$file utime_ticks=$ut stime_ticks=$st clk_tck=$(getconf CLK_TCK)" >>"$stat"
exit "$rc"
