/* Smoke test for MPI under Slurm (srun --mpi=pmix): rank 0 broadcasts a string to all ranks,
 * every rank prints what it received, with its rank, the world size and its hostname. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char value[512] = {0};
    char host[256] = {0};
    int rank = -1, size = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    gethostname(host, sizeof host - 1);
    if (rank == 0) {
        snprintf(value, sizeof value, "%.200s@%.200s", argc > 1 ? argv[1] : "hello", host);
    }
    MPI_Bcast(value, (int)sizeof value, MPI_CHAR, 0, MPI_COMM_WORLD);
    printf("BCAST rank=%d size=%d host=%s received=%s\n", rank, size, host, value);
    fflush(stdout);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Finalize();
    return 0;
}
