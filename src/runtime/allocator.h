// How the process's allocator treats the optimizer's large, short-lived buffers.
#pragma once

namespace bd {

// glibc hands freed memory at the top of its heap back to the system, and maps large blocks
// afresh from it: every optimisation step frees and takes again tens of megabytes (views,
// activations, gradients), and each page taken afresh costs a fault and a clearing. This
// keeps blocks up to 24 MB in the heap and up to 256 MB of freed heap for reuse.
// 1 GB was tried (2026-12-06), since glibc gives back all of the free top once it passes
// the threshold, not the excess: with a tiny CLIP at 1024 px it cut minor faults from
// 0.5-1.0 M to 0.24 M, but the time not measurably (24.7-26.8 s against 24.2-25.5 s, two
// interleaved pairs, after the visibility term's fused passes), and a 4096 x 3072 ViT-B/32
// run with --steps 8 peaked at 3.06-3.11 GB against 2.89-2.94 GB. A program that goes on
// idle after a run gives the kept memory back with release_freed_memory().
// Measured (bench_optimizer, MobileNet, 1024 px, 6 runs each): a step took 0.134-0.159 s
// (median 0.138) instead of 0.143-0.165 s (median 0.151). With 128 MB kept, a tiny CLIP's
// protect of a 1024 px image spent a quarter of its CPU time in page faults (0.50 M faults,
// two thirds of them in libjxl's butteraugli, whose bands free more than that at once;
// 8.3 s); with 256 MB kept 0.13-0.21 M faults and 6.1 s, with 512 MB 0.13 M and 5.6 s;
// the peak 606 -> 618 MB. Keeping more costs peak memory where full-resolution blocks are
// mapped apart from the heap: a 4096x3072 ViT-B/32 run with --steps 8 peaked at 2.90
// million KiB with 128 MB kept, 2.84 with 256 MB, 2.97 with 512 MB (and 32 MB blocks with
// 1 GB kept raised it from 2.84 to 3.14 before).
// All threads share that one heap (one arena): what the optimizer freed is then there for
// the threads that compare butteraugli's bands beside the main one, where each thread's own
// arena grew by a band's planes (measured peak, MobileNet protect at 1024 px: 0.78-0.84 GB
// with an arena per thread, 0.69-0.71 GB with one; time unchanged, 8.5 s).
// For programs that run the optimizer (the CLI, the desktop app), first thing in main: a
// library must not change its host's allocator. Leaves a GLIBC_TUNABLES malloc setting be.
void keep_freed_memory();

// Gives the freed heap back to the system (glibc's malloc_trim): for a program that stays
// open after a run, such as the desktop app, so it does not hold the run's peak while idle.
void release_freed_memory();

}  // namespace bd
