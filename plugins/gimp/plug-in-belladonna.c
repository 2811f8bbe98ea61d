/* GIMP 2.10 plug-in: Filters > Protect > Belladonna... protects the active layer (within the
 * selection) against generative-model training through libbelladonna's C API. It reads the
 * drawable through GEGL, protects it in memory and writes through the shadow buffer, so the
 * step is one undoable operation. Runs interactively (a dialog), with the last values, or
 * non-interactively from scripts and batch mode with the same parameters. */
#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "belladonna.h"

#define PLUG_IN_PROC   "plug-in-belladonna"
#define PLUG_IN_BINARY "plug-in-belladonna"
#define PLUG_IN_ROLE   "gimp-belladonna"
#define PATH_MAX_LEN   4096
#define WORD_LEN       64

/* Everything the user chooses; stored with gimp_set_data for "Repeat" and the next dialog. */
typedef struct {
    gchar   model[PATH_MAX_LEN];
    gchar   mode[WORD_LEN];       /* poison | cloak */
    gchar   target[256];          /* "" = automatic */
    gchar   intensity[WORD_LEN];  /* low | default | high */
    gchar   quality[WORD_LEN];    /* fast | default | slow */
    gdouble epsilon;              /* 1/255 units; 0 = from intensity */
    gint32  steps;                /* 0 = from quality */
    gint32  seed;
    gchar   device[WORD_LEN];     /* auto | cpu | cuda[:N] */
} ProtectVals;

static ProtectVals vals = { "", "poison", "", "default", "default", 0.0, 0, 0, "auto" };

static void query (void);
static void run (const gchar *name, gint nparams, const GimpParam *param,
                 gint *nreturn_vals, GimpParam **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

/* gimp_main behind the same re-exec as the CLI and the desktop app: libgomp and OpenBLAS
 * read their settings once, when libbelladonna loads them, and their defaults can make a
 * step several times slower (see bd_restart_with_tuned_runtime). GIMP's pipe descriptors
 * in argv survive the exec. */
int
main (int argc, char *argv[])
{
  bd_restart_with_tuned_runtime (argv);
  return gimp_main (&PLUG_IN_INFO, argc, argv);
}

static void
query (void)
{
  static const GimpParamDef args[] = {
    { GIMP_PDB_INT32,    "run-mode",  "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_IMAGE,    "image",     "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable",  "Input drawable" },
    { GIMP_PDB_STRING,   "model",     "Model path (CLIP .pt, open_clip or Hugging Face folder) or known name; empty: $BELLADONNA_MODEL" },
    { GIMP_PDB_STRING,   "mode",      "\"poison\" or \"cloak\"" },
    { GIMP_PDB_STRING,   "target",    "Target concept for poison mode; empty: automatic" },
    { GIMP_PDB_STRING,   "intensity", "\"low\", \"default\" or \"high\"" },
    { GIMP_PDB_STRING,   "quality",   "\"fast\", \"default\" or \"slow\"" },
    { GIMP_PDB_FLOAT,    "epsilon",   "Bound on the change in 1/255 units; 0: from intensity" },
    { GIMP_PDB_INT32,    "steps",     "Optimisation steps; 0: from quality" },
    { GIMP_PDB_INT32,    "seed",      "Random seed (same seed, same result)" },
    { GIMP_PDB_STRING,   "device",    "\"auto\", \"cpu\", \"cuda\" or \"cuda:N\"" },
  };

  gimp_install_procedure (PLUG_IN_PROC,
                          "Protect the layer against generative-model training",
                          "Adds a small, bounded perturbation computed through a CLIP image "
                          "encoder so that models trained on the image learn the wrong concept "
                          "(poison) or not its style (cloak). Works on the selection if any.",
                          "belladonna authors", "belladonna authors", "2024",
                          "_Belladonna...", "RGB*, GRAY*", GIMP_PLUGIN,
                          G_N_ELEMENTS (args), 0, args, NULL);
  gimp_plugin_menu_register (PLUG_IN_PROC, "<Image>/Filters/Protect");
}

static void
copy_str (gchar *dst, gsize size, const gchar *src)
{
  g_strlcpy (dst, src ? src : "", size);
}

/* ---- the dialog ------------------------------------------------------------------- */

static GtkWidget *
add_combo (GtkWidget *grid, gint row, const gchar *label, const gchar *const *items,
           const gchar *current)
{
  GtkWidget *combo = gtk_combo_box_text_new ();
  gint i;

  for (i = 0; items[i]; i++)
    {
      gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (combo), items[i]);
      if (strcmp (items[i], current) == 0)
        gtk_combo_box_set_active (GTK_COMBO_BOX (combo), i);
    }
  if (gtk_combo_box_get_active (GTK_COMBO_BOX (combo)) < 0)
    gtk_combo_box_set_active (GTK_COMBO_BOX (combo), 0);
  gimp_table_attach_aligned (GTK_TABLE (grid), 0, row, label, 0.0, 0.5, combo, 2, FALSE);
  return combo;
}

static void
combo_get (GtkWidget *combo, gchar *dst, gsize size)
{
  gchar *text = gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (combo));
  if (text)
    copy_str (dst, size, text);
  g_free (text);
}

static void
browse_clicked (GtkWidget *button, GtkEntry *entry)
{
  GtkWidget *chooser;

  (void) button;
  chooser =
    gtk_file_chooser_dialog_new ("Choose a model file", NULL, GTK_FILE_CHOOSER_ACTION_OPEN,
                                 "_Cancel", GTK_RESPONSE_CANCEL, "_Open", GTK_RESPONSE_ACCEPT,
                                 NULL);
  if (gtk_dialog_run (GTK_DIALOG (chooser)) == GTK_RESPONSE_ACCEPT)
    {
      gchar *file = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (chooser));
      /* open_clip and Hugging Face models are folders: their config file names the folder. */
      if (file && (g_str_has_suffix (file, ".json") || g_str_has_suffix (file, ".safetensors")))
        {
          gchar *dir = g_path_get_dirname (file);
          g_free (file);
          file = dir;
        }
      if (file)
        gtk_entry_set_text (entry, file);
      g_free (file);
    }
  gtk_widget_destroy (chooser);
}

static gboolean
protect_dialog (void)
{
  static const gchar *const modes[] = { "poison", "cloak", NULL };
  static const gchar *const intensities[] = { "low", "default", "high", NULL };
  static const gchar *const qualities[] = { "fast", "default", "slow", NULL };
  GtkWidget *dialog, *table, *mode, *target, *intensity, *quality, *model, *browse, *hbox;
  gboolean   ok;

  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  dialog = gimp_dialog_new ("Belladonna", PLUG_IN_ROLE, NULL, 0,
                            gimp_standard_help_func, PLUG_IN_PROC,
                            "_Cancel", GTK_RESPONSE_CANCEL,
                            "_OK", GTK_RESPONSE_OK,
                            NULL);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  table = gtk_table_new (5, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_container_set_border_width (GTK_CONTAINER (table), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))),
                      table, TRUE, TRUE, 0);

  mode = add_combo (table, 0, "_Mode:", modes, vals.mode);
  target = gtk_entry_new ();
  gtk_entry_set_text (GTK_ENTRY (target), vals.target);
  gtk_widget_set_tooltip_text (target, "Poison mode: the concept models should learn "
                                       "instead (e.g. \"cat\"); empty: chosen automatically");
  gimp_table_attach_aligned (GTK_TABLE (table), 0, 1, "_Target:", 0.0, 0.5, target, 2, FALSE);
  intensity = add_combo (table, 2, "_Intensity:", intensities, vals.intensity);
  quality = add_combo (table, 3, "_Quality:", qualities, vals.quality);

  hbox = gtk_hbox_new (FALSE, 6);
  model = gtk_entry_new ();
  gtk_entry_set_text (GTK_ENTRY (model), vals.model);
  gtk_entry_set_width_chars (GTK_ENTRY (model), 40);
  gtk_box_pack_start (GTK_BOX (hbox), model, TRUE, TRUE, 0);
  browse = gtk_button_new_with_mnemonic ("_Browse...");
  g_signal_connect (browse, "clicked", G_CALLBACK (browse_clicked), model);
  gtk_box_pack_start (GTK_BOX (hbox), browse, FALSE, FALSE, 0);
  gimp_table_attach_aligned (GTK_TABLE (table), 0, 4, "Mo_del:", 0.0, 0.5, hbox, 2, FALSE);

  gtk_widget_show_all (dialog);
  ok = gimp_dialog_run (GIMP_DIALOG (dialog)) == GTK_RESPONSE_OK;
  if (ok)
    {
      combo_get (mode, vals.mode, sizeof vals.mode);
      combo_get (intensity, vals.intensity, sizeof vals.intensity);
      combo_get (quality, vals.quality, sizeof vals.quality);
      copy_str (vals.target, sizeof vals.target, gtk_entry_get_text (GTK_ENTRY (target)));
      copy_str (vals.model, sizeof vals.model, gtk_entry_get_text (GTK_ENTRY (model)));
    }
  gtk_widget_destroy (dialog);
  return ok;
}

/* ---- protecting the drawable ------------------------------------------------------ */

/* GIMP's progress bar. Cancelling it in GIMP stops the plug-in before anything is merged;
 * a failed update (GIMP gone or the progress cancelled) cancels the optimisation too. */
static int
on_progress (float fraction, void *user_data)
{
  (void) user_data;
  return gimp_progress_update (fraction) ? 0 : 1;
}

/* The perceptual ("gamma") format with the drawable's channels at 8 or 16 bits: belladonna's
 * bound is in perceptual units, and higher-precision layers keep 16 bits of it. */
static const Babl *
pick_format (gint32 drawable, guint *channels, guint *bits)
{
  const Babl *native = gimp_drawable_get_format (drawable);
  gint        bpp = babl_format_get_bytes_per_pixel (native);
  gint        n = babl_format_get_n_components (native);
  gboolean    gray = gimp_drawable_is_gray (drawable);
  gboolean    alpha = gimp_drawable_has_alpha (drawable);
  gboolean    wide = n > 0 && bpp / n > 1;

  *channels = (gray ? 1 : 3) + (alpha ? 1 : 0);
  *bits = wide ? 16 : 8;
  if (gray)
    return babl_format (alpha ? (wide ? "Y'A u16" : "Y'A u8") : (wide ? "Y' u16" : "Y' u8"));
  return babl_format (alpha ? (wide ? "R'G'B'A u16" : "R'G'B'A u8")
                            : (wide ? "R'G'B' u16" : "R'G'B' u8"));
}

static GimpPDBStatusType
protect_drawable (gint32 drawable)
{
  gint        x, y, w, h;
  guint       channels, bits;
  const Babl *format;
  GeglBuffer *src, *shadow;
  bd_context *ctx = NULL;
  bd_params   params;
  bd_image    image;
  bd_status   status;
  guchar     *pixels;
  const gchar *model = vals.model[0] ? vals.model : g_getenv ("BELLADONNA_MODEL");

  if (!gimp_drawable_mask_intersect (drawable, &x, &y, &w, &h))
    return GIMP_PDB_SUCCESS; /* the selection does not touch this layer: nothing to do */
  if (!model || !*model)
    {
      g_message ("Belladonna: no model chosen. Choose a model file in the dialog "
                 "(or set BELLADONNA_MODEL).");
      return GIMP_PDB_CALLING_ERROR;
    }

  format = pick_format (drawable, &channels, &bits);
  image.width = (uint32_t) w;
  image.height = (uint32_t) h;
  image.channels = channels;
  image.bits = bits;
  image.stride = (size_t) w * channels * (bits / 8);
  pixels = g_try_malloc ((gsize) image.stride * (gsize) h);
  if (!pixels)
    {
      g_message ("Belladonna: not enough memory for a %d x %d layer.", w, h);
      return GIMP_PDB_EXECUTION_ERROR;
    }
  image.data = pixels;

  gimp_progress_init ("Belladonna: loading the model");
  status = bd_open (model, vals.device, &ctx);
  if (status != BD_OK)
    {
      g_message ("Belladonna could not load the model \"%s\": %s", model, bd_last_error (NULL));
      g_free (pixels);
      return GIMP_PDB_EXECUTION_ERROR;
    }

  src = gimp_drawable_get_buffer (drawable);
  gegl_buffer_get (src, GEGL_RECTANGLE (x, y, w, h), 1.0, format, pixels,
                   (gint) image.stride, GEGL_ABYSS_NONE);
  g_object_unref (src);

  params = bd_default_params ();
  params.mode = vals.mode;
  /* A concept left in the box from a poison run means nothing to a cloak. */
  params.target = vals.target[0] && strcmp (vals.mode, "cloak") != 0 ? vals.target : NULL;
  params.intensity = vals.intensity;
  params.quality = vals.quality;
  params.epsilon = (float) vals.epsilon;
  params.steps = vals.steps;
  params.seed = (uint64_t) (guint32) vals.seed;
  params.progress = on_progress;

  gimp_progress_init ("Belladonna: protecting");
  status = bd_protect (ctx, &params, &image);
  if (status != BD_OK)
    {
      if (status != BD_CANCELLED)
        g_message ("Belladonna could not protect the layer: %s", bd_last_error (ctx));
      bd_close (ctx);
      g_free (pixels);
      gimp_progress_end ();
      return status == BD_CANCELLED ? GIMP_PDB_CANCEL : GIMP_PDB_EXECUTION_ERROR;
    }
  bd_close (ctx);

  /* The shadow buffer, merged with undo, makes the whole protection one undo step and
   * respects the selection mask. */
  shadow = gimp_drawable_get_shadow_buffer (drawable);
  gegl_buffer_set (shadow, GEGL_RECTANGLE (x, y, w, h), 0, format, pixels, (gint) image.stride);
  gegl_buffer_flush (shadow);
  g_object_unref (shadow);
  g_free (pixels);

  gimp_drawable_merge_shadow (drawable, TRUE);
  gimp_drawable_update (drawable, x, y, w, h);
  gimp_progress_update (1.0);
  gimp_progress_end ();
  return GIMP_PDB_SUCCESS;
}

static void
run (const gchar *name, gint nparams, const GimpParam *param,
     gint *nreturn_vals, GimpParam **return_vals)
{
  static GimpParam  values[1];
  GimpPDBStatusType status = GIMP_PDB_SUCCESS;
  GimpRunMode       run_mode = param[0].data.d_int32;
  gint32            drawable = param[2].data.d_drawable;

  (void) name;
  *nreturn_vals = 1;
  *return_vals = values;
  values[0].type = GIMP_PDB_STATUS;

  gegl_init (NULL, NULL);

  switch (run_mode)
    {
    case GIMP_RUN_INTERACTIVE:
      gimp_get_data (PLUG_IN_PROC, &vals);
      vals.model[sizeof vals.model - 1] = '\0';
      if (!vals.model[0] && g_getenv ("BELLADONNA_MODEL"))
        copy_str (vals.model, sizeof vals.model, g_getenv ("BELLADONNA_MODEL"));
      if (!protect_dialog ())
        status = GIMP_PDB_CANCEL;
      break;

    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != 12)
        {
          status = GIMP_PDB_CALLING_ERROR;
          break;
        }
      copy_str (vals.model, sizeof vals.model, param[3].data.d_string);
      /* Empty strings are the C API's defaults (poison, default, default, auto). */
      copy_str (vals.mode, sizeof vals.mode, param[4].data.d_string);
      copy_str (vals.target, sizeof vals.target, param[5].data.d_string);
      copy_str (vals.intensity, sizeof vals.intensity, param[6].data.d_string);
      copy_str (vals.quality, sizeof vals.quality, param[7].data.d_string);
      vals.epsilon = param[8].data.d_float;
      vals.steps = param[9].data.d_int32;
      vals.seed = param[10].data.d_int32;
      copy_str (vals.device, sizeof vals.device, param[11].data.d_string);
      break;

    case GIMP_RUN_WITH_LAST_VALS:
      gimp_get_data (PLUG_IN_PROC, &vals);
      break;

    default:
      status = GIMP_PDB_CALLING_ERROR;
      break;
    }

  if (status == GIMP_PDB_SUCCESS)
    {
      if (bd_abi_version () != BD_ABI_VERSION)
        {
          g_message ("Belladonna: the plug-in was built for another libbelladonna "
                     "(ABI %u, found %u); reinstall it.", BD_ABI_VERSION, bd_abi_version ());
          status = GIMP_PDB_EXECUTION_ERROR;
        }
      else
        {
          status = protect_drawable (drawable);
        }
    }

  if (status == GIMP_PDB_SUCCESS)
    {
      if (run_mode != GIMP_RUN_NONINTERACTIVE)
        gimp_displays_flush ();
      if (run_mode == GIMP_RUN_INTERACTIVE)
        gimp_set_data (PLUG_IN_PROC, &vals, sizeof vals);
    }

  values[0].data.d_status = status;
}
