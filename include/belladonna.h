/*
 * belladonna.h -- the public C API of libbelladonna: protect an image in memory.
 *
 * belladonna adds a small, bounded pixel perturbation, computed with gradients through a
 * CLIP-style image encoder, so that a model trained on the image learns the wrong concept
 * ("poison") or no longer sees the image's own content and style ("cloak"). This header is
 * the hook for image editors and other hosts; it is plain C99 and C++.
 *
 * Usage:
 *
 *     #include <belladonna.h>
 *
 *     static int on_progress(float fraction, void *user_data) {
 *         (void)user_data;
 *         printf("\r%3d%%", (int)(fraction * 100));
 *         return 0;                       // non-zero cancels: bd_protect returns BD_CANCELLED
 *     }
 *
 *     bd_context *ctx = NULL;
 *     if (bd_open("/path/to/model", "auto", &ctx) != BD_OK) {
 *         fprintf(stderr, "belladonna: %s\n", bd_last_error(NULL));   // see "Errors"
 *         return 1;
 *     }
 *     bd_params p = bd_default_params();
 *     p.target = "cat";                   // NULL: a target is chosen automatically
 *     p.intensity = "default";
 *     p.progress = on_progress;
 *     bd_image img = { width, height, 4, 8, width * 4, pixels };  // RGBA8, caller-owned
 *     bd_status s = bd_protect(ctx, &p, &img);                   // modifies pixels in place
 *     if (s != BD_OK) fprintf(stderr, "belladonna: %s\n", bd_last_error(ctx));
 *     bd_close(ctx);
 *
 * Threads: a bd_context is not thread-safe. Use one context per thread (each holds its own
 * copy of the model); different contexts may be used from different threads at once.
 * Nothing in the library is global except the per-thread open error described below.
 *
 * Errors: every function returns (or maps to) a bd_status; no C++ exception ever crosses
 * this boundary. After a failed call on a context, bd_last_error(ctx) describes it in one
 * line; the string stays valid until the next call on that context. A call that has no
 * context to report on -- bd_open failing, or any function given ctx == NULL -- stores its
 * message per thread, read with bd_last_error(NULL) (valid until the next such failure on
 * the same thread). On failure bd_open sets *out to NULL.
 *
 * Images: interleaved samples, rows top to bottom, `stride` bytes apart (stride may exceed
 * the packed row size). 16-bit samples are native-endian uint16_t. Colour is sRGB-like
 * (perceptual, non-linear) values. Alpha is never changed. On any status other than BD_OK
 * the image is left exactly as it was. Every sample of the result differs from the original
 * by at most the chosen epsilon (in 1/255 units of full scale, after quantisation).
 */
#ifndef BELLADONNA_H
#define BELLADONNA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library hides everything else; these are its exported symbols. */
#if defined(__GNUC__)
#define BD_API __attribute__((visibility("default")))
#else
#define BD_API
#endif

/* Bumped when a struct layout or a function signature below changes incompatibly. */
#define BD_ABI_VERSION 4u

typedef struct bd_context bd_context; /* opaque: model + device */

typedef enum bd_status {
    BD_OK = 0,
    BD_CANCELLED = 1,                /* the progress callback returned non-zero */
    BD_ERR_INVALID_ARGUMENT = -1,    /* NULL, zero size, bad stride/bits/channels, bad params */
    BD_ERR_IO = -2,                  /* a file could not be read */
    BD_ERR_MODEL = -3,               /* the model could not be loaded or used */
    BD_ERR_OUT_OF_MEMORY = -4,
    BD_ERR_INTERNAL = -5             /* a bug: please report the message */
} bd_status;

typedef struct bd_image {        /* caller-owned, interleaved; modified in place */
    uint32_t width, height;
    uint32_t channels;           /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    uint32_t bits;               /* 8 or 16 (native endian for 16) */
    size_t   stride;             /* bytes per row */
    void    *data;
} bd_image;

/* fraction in [0, 1]; called from the thread that called bd_protect. Non-zero cancels. */
typedef int (*bd_progress_fn)(float fraction, void *user_data);

typedef struct bd_params {
    const char *mode;            /* "poison" (default) or "cloak" */
    const char *target;          /* concept, or NULL for automatic; none in cloak mode */
    float epsilon;               /* in 1/255 units, at most 64; 0 = from intensity */
    const char *intensity;       /* "low" | "default" | "high" */
    const char *quality;         /* "fast" | "default" | "slow" */
    int steps;                   /* 0 = from quality */
    uint64_t seed;
    bd_progress_fn progress; void *user_data;
    /* Butteraugli max-norm the result aims at (1.0 = visually lossless): < 0 = from
     * intensity (low 1.0, default 1.5, high 2.0), 0 = the L-inf budget only. ABI 2. */
    float visibility;
    /* Anchor images of the target (PNG or JPEG paths), instead of or beside `target`: a VAE
     * moves its latent toward theirs; beside a concept only encoders without text use them.
     * NULL / 0 = none. ABI 3. */
    const char *const *target_images;
    size_t target_image_count;
    /* Side of the square a VAE sees, a multiple of 8; 0 = its sample_size. ABI 3. */
    int vae_size;
} bd_params;

/* The clean-ups every protected image is measured after (bd_metrics). ABI 4. */
#define BD_PURIFIERS 5

/* What the last successful bd_protect on a context measured. NaN where it does not apply
 * (no target in cloak mode, an encoder without a text tower, ...). */
typedef struct bd_metrics {
    double linf;                 /* largest change, in 1/255 units; NaN when metrics are off */
    double psnr;                 /* dB (infinite for an unchanged image); NaN when metrics are off */
    double ssim;                 /* NaN when metrics are off */
    double target_sim_before, target_sim_after;  /* cosine to the target embedding */
    double source_sim_before, source_sim_after;  /* cosine to the source (the image itself) */
    double seconds;              /* wall time of the optimisation */
    /* Butteraugli distance (libjxl's psychovisual model) between the image before and after:
     * max-norm 1.0 is "visually lossless", above 2 a person notices. NaN when the library
     * was built without butteraugli. Added in ABI version 2. */
    double butteraugli, butteraugli_3norm;
    /* A VAE (the first encoder of the context): mean squared difference per scaled latent
     * element to the anchors' latent, and from the image's own latent. NaN for a CLIP.
     * Added in ABI version 3. */
    double target_distance_before, target_distance_after, clean_distance_after;
    /* What survives the clean-ups a scraper or a removal tool may apply before training, in
     * the order bd_purifier_name gives (0 noise + denoise, 1 strong noise + denoise, 2 a JPEG
     * chain, 3 blur + sharpen, 4 noisy upscaling): the first encoder's protected figure after
     * each (the target cosine; in cloak mode the cosine to the image itself; a VAE's latent
     * distance), and the share of the protection's gain each keeps over the original put
     * through the same clean-up (NaN where there was no gain). Added in ABI version 4. */
    double after_purifiers[BD_PURIFIERS];
    double kept_after_purifiers[BD_PURIFIERS];
} bd_metrics;

/* BD_ABI_VERSION of the library actually loaded; compare with the header's to detect a
 * mismatch. */
BD_API uint32_t    bd_abi_version(void);
/* The library version, e.g. "0.1.0". Static storage. */
BD_API const char *bd_version_string(void);

/* mode "poison", target NULL, epsilon 0, intensity "default", quality "default", steps 0,
 * visibility -1 (from intensity),
 * seed 0, no progress callback. */
BD_API bd_params   bd_default_params(void);

/* model: a path (CLIP .pt, open_clip or Hugging Face folder, TorchScript encoder, Stable
 * Diffusion VAE folder or .safetensors) or a known model name; device: "auto", "cpu", "cuda" or "cuda:N" (NULL means "auto"). */
BD_API bd_status   bd_open(const char *model, const char *device, bd_context **out);
/* Several encoders protected against at once (e.g. a CLIP and Stable Diffusion's VAE): one
 * loss, each encoder's weighted by weights[i] > 0 (NULL = 1 each). The metrics are the first
 * encoder's. ABI 3. */
BD_API bd_status   bd_open_ensemble(const char *const *models, const float *weights, size_t count,
                                    const char *device, bd_context **out);
BD_API void        bd_close(bd_context *ctx);                /* NULL is a no-op */
BD_API bd_status   bd_protect(bd_context *ctx, const bd_params *params, bd_image *image);
/* Never NULL: "" when there was no error. ctx == NULL: the calling thread's last error
 * that had no context (see "Errors" above). Valid until the next call on ctx. */
BD_API const char *bd_last_error(const bd_context *ctx);

/* Metrics of the last successful bd_protect on ctx. BD_ERR_INVALID_ARGUMENT when either
 * pointer is NULL or nothing has been protected yet. */
BD_API bd_status   bd_last_metrics(const bd_context *ctx, bd_metrics *out);
/* The kept shares of the last successful bd_protect in words, e.g. "holds after a JPEG
 * chain and blur + sharpen; weakened by noise + denoise". Never NULL: "" when nothing was
 * measured. Valid until the next bd_protect on ctx. ABI 4. */
BD_API const char *bd_last_verdict(const bd_context *ctx);
/* How visible the last successful bd_protect's change is to a person, in the words the CLI
 * and the desktop app use: "a person is unlikely to notice" (butteraugli max-norm 1.0 or
 * less), "subtle" (up to 2.0), "visible", or "not measured". Never NULL: "" when nothing
 * was protected. Valid until the next bd_protect on ctx. ABI 4. */
BD_API const char *bd_last_visibility(const bd_context *ctx);
/* The report's key of purifier i (0 <= i < BD_PURIFIERS), e.g. "jpeg_chain"; NULL for
 * another i. Static storage. ABI 4. */
BD_API const char *bd_purifier_name(int i);
/* The model and device the context runs on, e.g. "ViT-B-32" and "cpu". Valid while ctx is. */
BD_API const char *bd_model_name(const bd_context *ctx);
BD_API const char *bd_device_name(const bd_context *ctx);
/* A short English name of a status, e.g. "invalid argument". Static storage. */
BD_API const char *bd_status_string(bd_status status);

/* For a program's main, before anything else: libgomp and OpenBLAS read their settings
 * once, when they are loaded, and their defaults make a step several times slower on some
 * machines (OpenMP workers that spin for milliseconds and starve the working ones; OpenBLAS's
 * generic SSE3 kernels on a processor it does not recognise). When OMP_WAIT_POLICY is
 * unset, or OPENBLAS_CORETYPE is unset and OpenBLAS fell back to its generic kernels, sets
 * them (OMP_WAIT_POLICY=PASSIVE, GOMP_SPINCOUNT=20000 unless set, OPENBLAS_CORETYPE to the
 * widest kernels the processor runs) and re-executes the program with the same argv, so it
 * returns only when nothing needed setting or the exec failed. A variable already set is
 * never changed; argv must stay as main received it (open descriptors survive the exec). */
BD_API void        bd_restart_with_tuned_runtime(char **argv);

#ifdef __cplusplus
}
#endif

#endif /* BELLADONNA_H */
