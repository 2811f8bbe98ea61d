/* What the C API test shares: a failure counter with its CHECK macros, test images with padded
 * rows, a progress log, and the tiny models made by the test's generator programs. Plain C99,
 * like the test itself. */
#ifndef BD_TEST_C_FIXTURE_H
#define BD_TEST_C_FIXTURE_H

#include <belladonna.h>

#include <stdio.h>

extern int failures;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            ++failures;                                                                 \
        }                                                                               \
    } while (0)

/* An invalid call must say so: status, a non-empty message, image untouched. */
#define CHECK_INVALID(expr, ctx)                                                        \
    do {                                                                                \
        bd_status s_ = (expr);                                                          \
        if (s_ != BD_ERR_INVALID_ARGUMENT) {                                            \
            fprintf(stderr, "%s:%d: %s returned %d, expected BD_ERR_INVALID_ARGUMENT\n", \
                    __FILE__, __LINE__, #expr, (int)s_);                                \
            ++failures;                                                                 \
        } else if (bd_last_error(ctx)[0] == '\0') {                                     \
            fprintf(stderr, "%s:%d: %s gave no message\n", __FILE__, __LINE__, #expr);  \
            ++failures;                                                                 \
        }                                                                               \
    } while (0)

typedef struct {
    bd_image img;
    size_t size;
} owned_image;

/* A textured test picture (CLIP must have something to see), rows padded with 0xAB bytes
 * so that writes past a row are caught. */
owned_image make_image(uint32_t w, uint32_t h, uint32_t channels, uint32_t bits, size_t padding);
owned_image copy_image(const owned_image *src);
unsigned sample(const bd_image *img, uint32_t x, uint32_t y, uint32_t c);

typedef struct {
    unsigned max_color_diff;  /* over colour samples */
    unsigned changed;         /* colour samples that differ */
    unsigned alpha_changed;
    unsigned padding_changed;
} diff_stats;

diff_stats compare(const owned_image *a, const owned_image *b);

typedef struct {
    int calls;
    int cancel_at;     /* cancel on this call (1-based); 0 = never */
    float last;
    int decreasing;    /* fractions must not go backwards */
    int out_of_range;
} progress_log;

/* A bd_progress_fn that records into the progress_log passed as user_data. */
int on_progress(float fraction, void *user_data);

/* The temporary folder the tiny models are made in. */
extern char model_dir[256];
/* Runs bd-make-tiny-model into a fresh temporary folder and returns the path it prints. */
int make_tiny_model(const char *maker, char *path, size_t size);
/* Makes a tiny random Stable Diffusion VAE (a diffusers folder) beside the tiny CLIP. */
int make_tiny_vae(const char *maker, char *path, size_t size);
void remove_model_dir(void);

#endif
