/* mpi_bare.c [BCAST_BYTES [GATHER_BYTES]]: the floor for the launcher's rendezvous. MPI_Init, one
 * broadcast from rank 0 (default 64 bytes, a "plan seed"), one gather of GATHER_BYTES from every
 * rank to rank 0 (default 256, a "node report"), MPI_Finalize. Rank 0 prints the time between its
 * MPI_Init return and the gather's return. With the launcher's message sizes (a 1 KiB report slot,
 * a plan block of 4 KiB + 1 KiB per rank) it moves the bytes the launcher moves. */
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
    int bcast_bytes = argc > 1 ? atoi(argv[1]) : 64;
    int gather_bytes = argc > 2 ? atoi(argv[2]) : 256;
    char *seed = calloc((size_t)bcast_bytes, 1), *report = malloc((size_t)gather_bytes);
    if (rank == 0) snprintf(seed, (size_t)bcast_bytes, "seed-%d", size);
    MPI_Bcast(seed, bcast_bytes, MPI_CHAR, 0, MPI_COMM_WORLD);
    memset(report, 'a' + rank % 26, (size_t)gather_bytes);
    char *all = rank == 0 ? malloc((size_t)size * (size_t)gather_bytes) : NULL;
    MPI_Gather(report, gather_bytes, MPI_CHAR, all, gather_bytes, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("bare_mpi ranks=%d bcast_gather_s=%.6f\n", size, now() - start);
    free(all);
    free(report);
    free(seed);
    MPI_Finalize();
    return 0;
}
