# shellcheck shell=bash
# Bash completion for spark-slurm: its commands, each command's options, the values of
# --runtime, files and directories where an option takes one, and after `run ... --` the driver
# command, and `history`'s job ids from the user's records. Installed as share/bash-completion/completions/spark-slurm (bash-completion loads it
# on first use; the modulefile puts that share/ on XDG_DATA_DIRS).
# The option lists below must match `spark-slurm COMMAND --help`: the ctest test
# completion_matches_help (tests/packaging) compares them.

_spark_slurm_commands="run up plan doctor history env status list down ui help"

# _spark_slurm_options COMMAND: the long options of COMMAND, as its --help lists them.
_spark_slurm_options() {
    local shared="--config --no-hdfs --hdfs-auth --runtime --sudo --image --spark-image --hadoop-image --spark-home --hadoop-home --work-dir --help"
    local cluster="--workers --cores --memory --disk --leader-ip --worker-on-leader --bind --python --state-dir --job-dir --ready-timeout --wire-encryption"
    case $1 in
        run | up) echo "$shared $cluster --events --no-event-log --connect --no-connect --no-cds --stop-before-end --min-workers" ;;
        plan) echo "$shared $cluster --no-event-log --json --every-rank --nodes --cores-per-node --memory-per-node" ;;
        doctor) echo "$shared" ;;
        history) echo "--config --runtime --sudo --image --spark-image --spark-home --job-dir --port --help" ;;
        env) echo "--job --help" ;;
        status) echo "--job --json --help" ;;
        list) echo "--json --help" ;;
        down) echo "--job --timeout --help" ;;
        ui) echo "--job --browser --help" ;;
    esac
}

_spark_slurm() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local command="" i
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ -z $command ]]; then
            case ${COMP_WORDS[i]} in
                run | up | plan | doctor | history | env | status | list | down | ui | help) command=${COMP_WORDS[i]} ;;
            esac
        elif [[ ${COMP_WORDS[i]} == -- ]]; then
            # The driver command: its first word is a command, the rest files.
            if ((i + 1 == COMP_CWORD)); then
                mapfile -t COMPREPLY < <(compgen -c -- "$cur")
            else
                compopt -o default 2>/dev/null
            fi
            return 0
        fi
    done
    if [[ -z $command ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_spark_slurm_commands --help --version" -- "$cur")
        return 0
    fi
    if [[ $command == help ]]; then
        mapfile -t COMPREPLY < <(compgen -W "run up plan doctor history env status list down ui" -- "$cur")
        return 0
    fi
    case $prev in
        --runtime)
            mapfile -t COMPREPLY < <(compgen -W "apptainer singularity none" -- "$cur")
            return 0
            ;;
        --hdfs-auth)
            mapfile -t COMPREPLY < <(compgen -W "kerberos none" -- "$cur")
            return 0
            ;;
        --wire-encryption)
            mapfile -t COMPREPLY < <(compgen -W "on off" -- "$cur")
            return 0
            ;;
        --config | --image | --spark-image | --hadoop-image | --events | --python)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0
            ;;
        --spark-home | --hadoop-home | --work-dir | --state-dir | --job-dir | --bind)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
            ;;
        --workers | --cores | --memory | --disk | --leader-ip | --ready-timeout | --stop-before-end | --min-workers | \
            --nodes | --cores-per-node | --memory-per-node | --job | --timeout | --port)
            return 0 # a number, a size, an address, a port or a job id: nothing to offer
            ;;
    esac
    local words
    words=$(_spark_slurm_options "$command")
    # history's job ids: the jobs whose event logs the leaders recorded (~/.spark-slurm/history).
    if [[ $command == history && $cur != -* ]]; then
        local record
        for record in ~/.spark-slurm/history/*; do
            [[ -f $record && ${record##*/} =~ ^[0-9]+$ ]] && words+=" ${record##*/}"
        done
    fi
    [[ $command == run ]] && words+=" --"
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}

complete -F _spark_slurm spark-slurm
