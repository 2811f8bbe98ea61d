/* Proves include/belladonna.h is valid C99 and exercises every function of the C API against a
 * tiny generated model: argument checking, protecting 8- and 16-bit buffers with padded rows
 * (bound respected, alpha and padding untouched, pixels changed), determinism, metrics, and
 * cancellation from the progress callback (image left as it was).
 *
 * Usage: test-c MAKE_TINY_MODEL   (the bd-make-tiny-model program; it prints a model path)
 * Plain C on purpose, no test framework: this file is what a C host would write. */
#define _POSIX_C_SOURCE 200809L

#include <belladonna.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_fixture.h"

/* ---- the tests --------------------------------------------------------------------- */

static void test_static_functions(void) {
    bd_params p = bd_default_params();
    CHECK(bd_abi_version() == BD_ABI_VERSION);
    CHECK(bd_version_string() != NULL && bd_version_string()[0] != '\0');
    CHECK(strcmp(p.mode, "poison") == 0);
    CHECK(p.target == NULL);
    CHECK(p.epsilon == 0.0f);
    CHECK(strcmp(p.intensity, "default") == 0);
    CHECK(strcmp(p.quality, "default") == 0);
    CHECK(p.steps == 0 && p.seed == 0);
    CHECK(p.progress == NULL && p.user_data == NULL);
    CHECK(p.visibility < 0); /* from the intensity */
    CHECK(strcmp(bd_status_string(BD_OK), "ok") == 0);
    CHECK(strcmp(bd_status_string(BD_CANCELLED), "cancelled") == 0);
    CHECK(strcmp(bd_status_string(BD_ERR_INVALID_ARGUMENT), "invalid argument") == 0);
    CHECK(bd_status_string(BD_ERR_IO)[0] && bd_status_string(BD_ERR_MODEL)[0] &&
          bd_status_string(BD_ERR_OUT_OF_MEMORY)[0] && bd_status_string(BD_ERR_INTERNAL)[0]);
    CHECK(bd_status_string((bd_status)42)[0] != '\0');
    bd_close(NULL); /* a no-op */
    CHECK(bd_last_error(NULL) != NULL);
    CHECK(bd_model_name(NULL)[0] == '\0' && bd_device_name(NULL)[0] == '\0');
}

/* Writes `text` to model_dir/name and puts its path in `path`; 0 when it cannot. */
static int write_bogus_file(char *path, size_t size, const char *name, const char *text) {
    FILE *f;
    snprintf(path, size, "%s/%s", model_dir, name);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return 0;
    fputs(text, f);
    fclose(f);
    return 1;
}

static void test_open_errors(void) {
    bd_context *ctx = (bd_context *)&ctx; /* garbage that bd_open must clear */
    char bogus[300];

    CHECK_INVALID(bd_open("x", "cpu", NULL), NULL);
    CHECK_INVALID(bd_open(NULL, "cpu", &ctx), NULL);
    CHECK(ctx == NULL);
    ctx = (bd_context *)&ctx;
    CHECK_INVALID(bd_open("", "cpu", &ctx), NULL);
    CHECK(ctx == NULL);

    /* An existing file that is not a model: a model error naming the file. */
    if (!write_bogus_file(bogus, sizeof bogus, "not-a-model.pt", "this is not a checkpoint\n")) return;
    ctx = (bd_context *)&ctx;
    CHECK(bd_open(bogus, "cpu", &ctx) == BD_ERR_MODEL);
    CHECK(ctx == NULL);
    CHECK(strstr(bd_last_error(NULL), "not-a-model.pt") != NULL);
    if (!strstr(bd_last_error(NULL), "not-a-model.pt"))
        fprintf(stderr, "  message was: %s\n", bd_last_error(NULL));
    CHECK(strchr(bd_last_error(NULL), '\n') == NULL); /* one line */
    remove(bogus);
}

/* A clean-up network the environment names that is no network: one model error from bd_open
 * naming the variable and the file, not one per image. */
static void test_bad_clean_up_network(const char *model) {
    bd_context *ctx = NULL;
    char bogus[300];

    if (!write_bogus_file(bogus, sizeof bogus, "not-a-denoiser.pt", "this is not a network\n")) return;
    setenv("BELLADONNA_DENOISER", bogus, 1);
    CHECK(bd_open(model, "cpu", &ctx) == BD_ERR_MODEL);
    CHECK(ctx == NULL);
    CHECK(strstr(bd_last_error(NULL), "BELLADONNA_DENOISER") != NULL);
    CHECK(strstr(bd_last_error(NULL), "not-a-denoiser.pt") != NULL);
    CHECK(strchr(bd_last_error(NULL), '\n') == NULL); /* one line */
    unsetenv("BELLADONNA_DENOISER");
    remove(bogus);
    bd_close(ctx);
}

static void test_invalid_arguments(bd_context *ctx) {
    owned_image good = make_image(16, 12, 3, 8, 0);
    owned_image before = copy_image(&good);
    bd_params p = bd_default_params();
    bd_image bad;
    bd_metrics m;

    CHECK(bd_last_metrics(ctx, &m) == BD_ERR_INVALID_ARGUMENT); /* nothing protected yet */
    CHECK_INVALID(bd_last_metrics(NULL, &m), NULL);
    CHECK(bd_last_metrics(ctx, NULL) == BD_ERR_INVALID_ARGUMENT);

    CHECK_INVALID(bd_protect(NULL, &p, &good.img), NULL);
    CHECK_INVALID(bd_protect(ctx, NULL, &good.img), ctx);
    CHECK_INVALID(bd_protect(ctx, &p, NULL), ctx);

    bad = good.img; bad.width = 0;
    CHECK_INVALID(bd_protect(ctx, &p, &bad), ctx);
    bad = good.img; bad.height = 0;
    CHECK_INVALID(bd_protect(ctx, &p, &bad), ctx);
    bad = good.img; bad.channels = 0;
    CHECK_INVALID(bd_protect(ctx, &p, &bad), ctx);
    bad = good.img; bad.channels = 5;
    CHECK_INVALID(bd_protect(ctx, &p, &bad), ctx);
    bad = good.img; bad.bits = 12;
    CHECK_INVALID(bd_protect(ctx, &p, &bad), ctx);
    bad = good.img; bad.bits = 32;
    CHECK_INVALID(bd_protect(ctx, &p, &bad), ctx);
    bad = good.img; bad.stride = good.img.stride - 1;
    CHECK_INVALID(bd_protect(ctx, &p, &bad), ctx);
    CHECK(strstr(bd_last_error(ctx), "stride") != NULL);
    bad = good.img; bad.data = NULL;
    CHECK_INVALID(bd_protect(ctx, &p, &bad), ctx);

    p.mode = "sabotage";
    CHECK_INVALID(bd_protect(ctx, &p, &good.img), ctx);
    CHECK(strstr(bd_last_error(ctx), "sabotage") != NULL);
    p = bd_default_params(); p.intensity = "extreme";
    CHECK_INVALID(bd_protect(ctx, &p, &good.img), ctx);
    p = bd_default_params(); p.quality = "best";
    CHECK_INVALID(bd_protect(ctx, &p, &good.img), ctx);
    p = bd_default_params(); p.epsilon = -1.0f;
    CHECK_INVALID(bd_protect(ctx, &p, &good.img), ctx);
    p = bd_default_params(); p.epsilon = NAN;
    CHECK_INVALID(bd_protect(ctx, &p, &good.img), ctx);
    p = bd_default_params(); p.steps = -3;
    CHECK_INVALID(bd_protect(ctx, &p, &good.img), ctx);
    p = bd_default_params(); p.visibility = 25.0f;
    CHECK_INVALID(bd_protect(ctx, &p, &good.img), ctx);
    CHECK(strstr(bd_last_error(ctx), "visibility") != NULL);
    p = bd_default_params(); p.visibility = NAN;
    CHECK_INVALID(bd_protect(ctx, &p, &good.img), ctx);

    CHECK(memcmp(good.img.data, before.img.data, good.size) == 0);
    free(good.img.data);
    free(before.img.data);
}

static bd_params fast_params(float epsilon, progress_log *log) {
    bd_params p = bd_default_params();
    p.quality = "fast";
    p.steps = 4;
    p.epsilon = epsilon;
    p.seed = 7;
    p.progress = on_progress;
    p.user_data = log;
    return p;
}

static void test_protect_rgba8(bd_context *ctx) {
    owned_image img = make_image(48, 40, 4, 8, 5); /* odd padding: stride != packed row */
    owned_image orig = copy_image(&img);
    owned_image again = copy_image(&img);
    progress_log log = {0, 0, 0.0f, 0, 0};
    bd_params p = fast_params(8.0f, &log);
    bd_metrics m;
    diff_stats d;

    CHECK(bd_protect(ctx, &p, &img.img) == BD_OK);
    if (bd_last_error(ctx)[0]) fprintf(stderr, "  error: %s\n", bd_last_error(ctx));
    d = compare(&orig, &img);
    CHECK(d.max_color_diff <= 8);   /* epsilon 8/255 on an 8-bit image */
    CHECK(d.changed > 0);
    CHECK(d.alpha_changed == 0);
    CHECK(d.padding_changed == 0);
    fprintf(stderr, "rgba8: max diff %u/255, %u samples changed, %d progress calls\n",
            d.max_color_diff, d.changed, log.calls);
    CHECK(log.calls >= 2);
    CHECK(!log.decreasing && !log.out_of_range);
    CHECK(log.last == 1.0f);

    CHECK(bd_last_metrics(ctx, &m) == BD_OK);
    CHECK(m.linf > 0 && m.linf <= 8.0 + 1e-6);
    CHECK(m.seconds >= 0);
#ifdef BD_TEST_HAVE_BUTTERAUGLI
    /* the default intensity's visibility target, met by the returned pixels */
    CHECK(m.butteraugli > 0 && m.butteraugli <= 1.5);
    CHECK(m.butteraugli_3norm > 0 && m.butteraugli_3norm <= m.butteraugli);
#else
    CHECK(m.butteraugli != m.butteraugli); /* NaN: not measured */
#endif
    {
        /* Every purifier measured, and the shares in words. */
        int i;
        const char *seen;
        for (i = 0; i < BD_PURIFIERS; ++i) {
            CHECK(bd_purifier_name(i) != NULL && bd_purifier_name(i)[0] != '\0');
            CHECK(m.after_purifiers[i] == m.after_purifiers[i]); /* not NaN */
        }
        CHECK(bd_purifier_name(BD_PURIFIERS) == NULL && bd_purifier_name(-1) == NULL);
        CHECK(strstr(bd_last_verdict(ctx), "after") != NULL || strstr(bd_last_verdict(ctx), "by") != NULL);
        CHECK(bd_last_verdict(NULL)[0] == '\0');
        seen = bd_last_visibility(ctx);
        CHECK(strcmp(seen, "a person is unlikely to notice") == 0 || strcmp(seen, "subtle") == 0
              || strcmp(seen, "visible") == 0 || strcmp(seen, "not measured") == 0);
        CHECK(bd_last_visibility(NULL)[0] == '\0');
    }

    /* Same seed, same device: the same bytes. */
    log.calls = 0; log.last = 0;
    CHECK(bd_protect(ctx, &p, &again.img) == BD_OK);
    CHECK(memcmp(img.img.data, again.img.data, img.size) == 0);

    free(img.img.data);
    free(orig.img.data);
    free(again.img.data);
}

static void test_protect_gray16(bd_context *ctx) {
    owned_image img = make_image(40, 32, 1, 16, 2);
    owned_image orig = copy_image(&img);
    progress_log log = {0, 0, 0.0f, 0, 0};
    bd_params p = fast_params(4.0f, &log);
    diff_stats d;

    p.mode = "cloak";
    CHECK(bd_protect(ctx, &p, &img.img) == BD_OK);
    if (bd_last_error(ctx)[0]) fprintf(stderr, "  error: %s\n", bd_last_error(ctx));
    d = compare(&orig, &img);
    fprintf(stderr, "gray16: max diff %u/65535\n", d.max_color_diff);
    CHECK(d.max_color_diff <= 4u * 257u); /* 4/255 of full scale at 16 bits */
    CHECK(d.changed > 0);
    CHECK(d.padding_changed == 0);
    free(img.img.data);
    free(orig.img.data);
}

static void test_gray_alpha8(bd_context *ctx) {
    owned_image img = make_image(24, 24, 2, 8, 0);
    owned_image orig = copy_image(&img);
    bd_params p = fast_params(16.0f, NULL);
    diff_stats d;

    p.progress = NULL; /* no callback at all is fine */
    p.intensity = "high";
    CHECK(bd_protect(ctx, &p, &img.img) == BD_OK);
    d = compare(&orig, &img);
    CHECK(d.max_color_diff <= 16);
    CHECK(d.alpha_changed == 0);
    free(img.img.data);
    free(orig.img.data);
}

/* A CLIP and a VAE in one context (ABI 3): the CLIP moves toward the concept, the VAE's
 * latent away from its own; a VAE alone takes anchor images, never a concept. */
static void test_ensemble(const char *clip, const char *vae) {
    const char *models[2];
    const float weights[2] = {1.0f, 2.0f};
    const char *missing_anchor[1] = {"/nonexistent/anchor.png"};
    bd_context *ctx = NULL;
    owned_image img = make_image(48, 40, 3, 8, 0);
    progress_log log = {0, 0, 0.0f, 0, 0};
    bd_params p = fast_params(8.0f, &log);
    bd_metrics m;
    models[0] = clip;
    models[1] = vae;
    CHECK_INVALID(bd_open_ensemble(models, NULL, 0, "cpu", &ctx), NULL);
    {
        const float bad_weights[2] = {1.0f, 0.0f};
        CHECK_INVALID(bd_open_ensemble(models, bad_weights, 2, "cpu", &ctx), NULL);
        CHECK(ctx == NULL);
    }
    CHECK(bd_open_ensemble(models, weights, 2, "cpu", &ctx) == BD_OK);
    if (!ctx) {
        fprintf(stderr, "bd_open_ensemble: %s\n", bd_last_error(NULL));
        free(img.img.data);
        return;
    }
    CHECK(strstr(bd_model_name(ctx), " + ") != NULL);
    p.target = "cat";
    CHECK(bd_protect(ctx, &p, &img.img) == BD_OK);
    if (bd_last_error(ctx)[0]) fprintf(stderr, "  error: %s\n", bd_last_error(ctx));
    CHECK(bd_last_metrics(ctx, &m) == BD_OK);
    CHECK(m.target_sim_after > m.target_sim_before); /* the first encoder, the CLIP */
    CHECK(m.clean_distance_after != m.clean_distance_after); /* NaN: a CLIP has no latent */
    bd_close(ctx);

    ctx = NULL;
    CHECK(bd_open(vae, "cpu", &ctx) == BD_OK);
    if (!ctx) {
        free(img.img.data);
        return;
    }
    CHECK(bd_protect(ctx, &p, &img.img) == BD_ERR_INVALID_ARGUMENT); /* a concept, no text */
    CHECK(strstr(bd_last_error(ctx), "VAE") != NULL);
    p.target = NULL;
    p.target_images = missing_anchor;
    p.target_image_count = 1;
    CHECK(bd_protect(ctx, &p, &img.img) == BD_ERR_IO);
    CHECK(strstr(bd_last_error(ctx), "anchor.png") != NULL);
    p.target_images = NULL;
    p.target_image_count = 0;
    p.mode = "cloak";
    CHECK(bd_protect(ctx, &p, &img.img) == BD_OK);
    CHECK(bd_last_metrics(ctx, &m) == BD_OK);
    CHECK(m.clean_distance_after > 0);
    CHECK(m.target_sim_after != m.target_sim_after); /* NaN: no embedding figures */
    bd_close(ctx);
    free(img.img.data);
}

/* Cancelling leaves the image as it was, returns BD_CANCELLED, and the context stays usable. */
static void test_cancel(bd_context *ctx) {
    int cancel_at;
    for (cancel_at = 1; cancel_at <= 3; cancel_at += 2) {
        owned_image img = make_image(32, 32, 3, 8, 3);
        owned_image orig = copy_image(&img);
        progress_log log = {0, 0, 0.0f, 0, 0};
        bd_params p = fast_params(8.0f, &log);
        log.cancel_at = cancel_at;
        p.steps = 20;
        CHECK(bd_protect(ctx, &p, &img.img) == BD_CANCELLED);
        CHECK(log.calls == cancel_at); /* not called again after cancelling */
        CHECK(bd_last_error(ctx)[0] != '\0');
        CHECK(memcmp(img.img.data, orig.img.data, img.size) == 0);
        free(img.img.data);
        free(orig.img.data);
    }
    {
        owned_image img = make_image(16, 16, 3, 8, 0);
        progress_log log = {0, 0, 0.0f, 0, 0};
    bd_params p = fast_params(8.0f, &log);
        p.progress = NULL;
        CHECK(bd_protect(ctx, &p, &img.img) == BD_OK);
        CHECK(bd_last_error(ctx)[0] == '\0'); /* a success clears the last error */
        free(img.img.data);
    }
}

int main(int argc, char **argv) {
    char model[1024];
    bd_context *ctx = NULL;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s BD_MAKE_TINY_MODEL [BD_MAKE_TINY_VAE]\n", argv[0]);
        return 2;
    }
    test_static_functions();
    if (!make_tiny_model(argv[1], model, sizeof model)) {
        fprintf(stderr, "could not make a tiny model with %s\n", argv[1]);
        remove_model_dir();
        return 1;
    }
    test_open_errors();
    test_bad_clean_up_network(model);

    CHECK(bd_open(model, "cpu", &ctx) == BD_OK);
    if (!ctx) {
        fprintf(stderr, "bd_open(%s): %s\n", model, bd_last_error(NULL));
        remove_model_dir();
        return 1;
    }
    CHECK(bd_model_name(ctx)[0] != '\0');
    CHECK(strstr(bd_device_name(ctx), "cpu") != NULL);
    CHECK(bd_last_error(ctx)[0] == '\0');

    test_invalid_arguments(ctx);
    test_protect_rgba8(ctx);
    test_protect_gray16(ctx);
    test_gray_alpha8(ctx);
    test_cancel(ctx);

    bd_close(ctx);
    if (argc == 3) {
        char vae[1024];
        CHECK(make_tiny_vae(argv[2], vae, sizeof vae));
        test_ensemble(model, vae);
    }
    remove_model_dir();
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else fprintf(stderr, "all C API checks passed\n");
    return failures ? 1 : 0;
}
