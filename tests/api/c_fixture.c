/* The C API test's shared pieces (c_fixture.h). */
#define _POSIX_C_SOURCE 200809L

#include "c_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int failures = 0;

/* ---- images ------------------------------------------------------------------------ */

owned_image make_image(uint32_t w, uint32_t h, uint32_t channels, uint32_t bits, size_t padding) {
    owned_image o;
    uint32_t x, y, c;
    size_t bps = bits / 8;
    o.img.width = w;
    o.img.height = h;
    o.img.channels = channels;
    o.img.bits = bits;
    o.img.stride = (size_t)w * channels * bps + padding;
    o.size = o.img.stride * h;
    o.img.data = malloc(o.size);
    memset(o.img.data, 0xAB, o.size);
    for (y = 0; y < h; ++y) {
        unsigned char *row = (unsigned char *)o.img.data + y * o.img.stride;
        for (x = 0; x < w; ++x) {
            for (c = 0; c < channels; ++c) {
                int alpha = (channels == 2 || channels == 4) && c == channels - 1;
                double v = alpha ? (x < w / 2 ? 1.0 : 0.5)
                                 : 0.5 + 0.35 * sin(x * (0.21 + 0.07 * c)) * cos(y * 0.17) +
                                       0.1 * ((x / 8 + y / 8) % 2);
                if (v < 0) v = 0;
                if (v > 1) v = 1;
                if (bits == 8)
                    row[x * channels + c] = (unsigned char)(v * 255 + 0.5);
                else
                    ((uint16_t *)(void *)row)[x * channels + c] = (uint16_t)(v * 65535 + 0.5);
            }
        }
    }
    return o;
}

owned_image copy_image(const owned_image *src) {
    owned_image o = *src;
    o.img.data = malloc(src->size);
    memcpy(o.img.data, src->img.data, src->size);
    return o;
}

unsigned sample(const bd_image *img, uint32_t x, uint32_t y, uint32_t c) {
    const unsigned char *row = (const unsigned char *)img->data + y * img->stride;
    return img->bits == 8 ? row[x * img->channels + c]
                          : ((const uint16_t *)(const void *)row)[x * img->channels + c];
}

diff_stats compare(const owned_image *a, const owned_image *b) {
    diff_stats d = {0, 0, 0, 0};
    uint32_t x, y, c;
    size_t row = (size_t)a->img.width * a->img.channels * (a->img.bits / 8), i;
    int has_alpha = a->img.channels == 2 || a->img.channels == 4;
    for (y = 0; y < a->img.height; ++y) {
        const unsigned char *pb = (const unsigned char *)b->img.data + y * b->img.stride;
        for (x = 0; x < a->img.width; ++x)
            for (c = 0; c < a->img.channels; ++c) {
                unsigned va = sample(&a->img, x, y, c), vb = sample(&b->img, x, y, c);
                unsigned diff = va > vb ? va - vb : vb - va;
                if (has_alpha && c == a->img.channels - 1) {
                    d.alpha_changed += diff != 0;
                } else {
                    d.changed += diff != 0;
                    if (diff > d.max_color_diff) d.max_color_diff = diff;
                }
            }
        for (i = row; i < b->img.stride; ++i) d.padding_changed += pb[i] != 0xAB;
    }
    return d;
}

/* ---- progress callbacks ------------------------------------------------------------ */

int on_progress(float fraction, void *user_data) {
    progress_log *log = (progress_log *)user_data;
    ++log->calls;
    if (fraction < log->last) log->decreasing = 1;
    if (!(fraction >= 0.0f && fraction <= 1.0f)) log->out_of_range = 1;
    log->last = fraction;
    return log->cancel_at != 0 && log->calls >= log->cancel_at;
}

/* ---- the model --------------------------------------------------------------------- */

char model_dir[256];

/* Runs a model maker's command line and returns the path it prints (its first line). */
static int run_maker(const char *cmd, char *path, size_t size) {
    FILE *p;
    size_t n;
    p = popen(cmd, "r");
    if (!p) return 0;
    if (!fgets(path, (int)size, p)) path[0] = '\0';
    if (pclose(p) != 0) return 0;
    n = strlen(path);
    while (n && (path[n - 1] == '\n' || path[n - 1] == '\r')) path[--n] = '\0';
    return n > 0;
}

int make_tiny_model(const char *maker, char *path, size_t size) {
    char cmd[1024];
    const char *tmp = getenv("TMPDIR");
    snprintf(model_dir, sizeof model_dir, "%s/bd-test-c-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(model_dir)) return 0;
    snprintf(cmd, sizeof cmd, "'%s' '%s'", maker, model_dir);
    return run_maker(cmd, path, size);
}

void remove_model_dir(void) {
    char cmd[512];
    if (!model_dir[0]) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", model_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", model_dir);
}

int make_tiny_vae(const char *maker, char *path, size_t size) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' '%s/vae' --format diffusers", maker, model_dir);
    return run_maker(cmd, path, size);
}
