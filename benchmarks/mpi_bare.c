/* mpi_bare.c: the floor for the launcher's rendezvous. MPI_Init, one broadcast (a 64-byte "plan
 * seed" from rank 0), one gather (a 256-byte "node report" from every rank to rank 0),
 * MPI_Finalize. Rank 0 prints the time between its MPI_Init return and the gather's return. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    double start = now();
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char seed[64] = {0}, report[256];
    if (rank == 0) snprintf(seed, sizeof seed, "seed-%d", size);
    MPI_Bcast(seed, sizeof seed, MPI_CHAR, 0, MPI_COMM_WORLD);
    memset(report, 'a' + rank % 26, sizeof report);
    char *all = rank == 0 ? malloc((size_t)size * sizeof report) : NULL;
    MPI_Gather(report, sizeof report, MPI_CHAR, all, sizeof report, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("bare_mpi ranks=%d bcast_gather_s=%.6f\n", size, now() - start);
    free(all);
    MPI_Finalize();
    return 0;
}
