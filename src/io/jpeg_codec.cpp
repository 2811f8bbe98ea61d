// JPEG through libjpeg-turbo.
//
// Error handling follows the same rule as png_codec.cpp: libjpeg's error_exit must not return,
// so ours longjmps back to a setjmp taken in a C-style "phase" function whose frame (and
// every frame below it: libjpeg's and our plain callbacks) holds no object with a
// destructor. C++ containers live in the caller, above the setjmp, and are sized only after
// the header has been checked. Throwing from error_exit instead would unwind through
// libjpeg's C frames, which are not built to be unwound.
#include "src/io/jpeg_codec.h"

#include <cstdio>  // jpeglib.h needs FILE
#include <jerror.h>
#include <jpeglib.h>

#include <algorithm>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <new>

#include "src/io/exif.h"

namespace bd {
namespace {

constexpr int kMaxScans = 1000;  // progressive files with absurd scan counts are a CPU bomb
const char kExifTag[] = "Exif\0\0";                          // 6 bytes
const char kXmpTag[] = "http://ns.adobe.com/xap/1.0/";        // + NUL = 29 bytes
const char kIccTag[] = "ICC_PROFILE";                         // + NUL = 12 bytes, then seq, count

struct JpegError {
    jpeg_error_mgr pub;  // first member: libjpeg hands us a pointer to it
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void on_error_exit(j_common_ptr c) {
    auto* e = reinterpret_cast<JpegError*>(c->err);
    (*c->err->format_message)(c, e->message);
    std::longjmp(e->jump, 1);
}

void on_emit_message(j_common_ptr c, int level) {
    // A file that ends early is decoded by libjpeg as grey padding with only a warning;
    // for us a truncated file is an error.
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) on_error_exit(c);
    if (level < 0) c->err->num_warnings++;
}

void on_progress(j_common_ptr c) {
    if (!c->is_decompressor) return;
    auto* d = reinterpret_cast<j_decompress_ptr>(c);
    if (d->input_scan_number > kMaxScans) {
        auto* e = reinterpret_cast<JpegError*>(c->err);
        std::snprintf(e->message, sizeof e->message, "more than %d progressive scans", kMaxScans);
        std::longjmp(e->jump, 1);
    }
}

void init_error(JpegError* e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = on_error_exit;
    e->pub.emit_message = on_emit_message;
    e->message[0] = '\0';
}

// ---- reading ------------------------------------------------------------------------

struct JpegReader {
    jpeg_decompress_struct d;
    JpegError err;
    jpeg_progress_mgr progress;
};

bool jpeg_header_phase(JpegReader* r, const uint8_t* data, size_t size) {
    if (setjmp(r->err.jump)) return false;
    jpeg_create_decompress(&r->d);
    r->progress.progress_monitor = on_progress;
    r->d.progress = &r->progress;
    jpeg_mem_src(&r->d, data, static_cast<unsigned long>(size));
    jpeg_save_markers(&r->d, JPEG_APP0 + 1, 0xffff);
    jpeg_save_markers(&r->d, JPEG_APP0 + 2, 0xffff);
    jpeg_save_markers(&r->d, JPEG_COM, 0xffff);
    jpeg_read_header(&r->d, TRUE);
    return true;
}

// Returns 1 on success, 0 on a libjpeg error, -1 when the output shape is not the expected.
int jpeg_rows_phase(JpegReader* r, uint8_t* out, size_t row_bytes) {
    if (setjmp(r->err.jump)) return 0;
    jpeg_start_decompress(&r->d);
    if (size_t(r->d.output_width) * size_t(r->d.output_components) != row_bytes) return -1;
    while (r->d.output_scanline < r->d.output_height) {
        JSAMPROW row = out + size_t(r->d.output_scanline) * row_bytes;
        jpeg_read_scanlines(&r->d, &row, 1);
    }
    jpeg_finish_decompress(&r->d);
    return 1;
}

struct ReaderGuard {
    JpegReader* r;
    ~ReaderGuard() { jpeg_destroy_decompress(&r->d); }  // safe on a half-created struct
};

bool starts_with(const jpeg_saved_marker_ptr m, const char* tag, size_t n) {
    return m->data_length >= n && std::memcmp(m->data, tag, n) == 0;
}

void collect_metadata(j_decompress_ptr d, ImageMetadata& meta) {
    struct IccChunk {
        int seq;
        const uint8_t* data;
        size_t size;
    };
    std::vector<IccChunk> icc;
    for (jpeg_saved_marker_ptr m = d->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && starts_with(m, kExifTag, 6)) {
            if (meta.exif.empty()) meta.exif.assign(m->data + 6, m->data + m->data_length);
        } else if (m->marker == JPEG_APP0 + 1 && starts_with(m, kXmpTag, sizeof kXmpTag)) {
            if (meta.xmp.empty()) meta.xmp.assign(m->data + sizeof kXmpTag, m->data + m->data_length);
        } else if (m->marker == JPEG_APP0 + 2 && starts_with(m, kIccTag, sizeof kIccTag) &&
                   m->data_length >= sizeof kIccTag + 2) {
            icc.push_back({m->data[sizeof kIccTag], m->data + sizeof kIccTag + 2,
                           m->data_length - sizeof kIccTag - 2});
        } else if (m->marker == JPEG_COM) {
            meta.comments.emplace_back(reinterpret_cast<const char*>(m->data), m->data_length);
        }
    }
    // ICC chunks are numbered from 1; join them in sequence order (stable for odd files).
    std::stable_sort(icc.begin(), icc.end(),
                     [](const IccChunk& a, const IccChunk& b) { return a.seq < b.seq; });
    for (const IccChunk& c : icc) meta.icc_profile.insert(meta.icc_profile.end(), c.data, c.data + c.size);
    meta.orientation = exif_orientation(meta.exif);
    meta.interlaced = d->progressive_mode != 0;
}

// ---- writing ------------------------------------------------------------------------

struct JpegWriter {
    jpeg_compress_struct c;
    JpegError err;
    unsigned char* buffer = nullptr;  // malloc'd by jpeg_mem_dest; freed by the caller
    unsigned long size = 0;
};

struct JpegWriteJob {
    const uint8_t* pixels;  // 8-bit gray or RGB
    uint32_t width, height, channels;
    int quality;
    bool chroma_subsampled;  // 4:2:0, libjpeg's default; otherwise 4:4:4
    bool progressive;
    const ImageMetadata* meta;
};

void write_prefixed_marker(j_compress_ptr c, int marker, const char* tag, size_t tag_len,
                           const std::vector<uint8_t>& payload) {
    jpeg_write_m_header(c, marker, unsigned(tag_len + payload.size()));
    for (size_t i = 0; i < tag_len; ++i) jpeg_write_m_byte(c, uint8_t(tag[i]));
    for (uint8_t b : payload) jpeg_write_m_byte(c, b);
}

bool jpeg_write_phase(JpegWriter* w, const JpegWriteJob* job) {
    if (setjmp(w->err.jump)) return false;
    j_compress_ptr c = &w->c;
    jpeg_create_compress(c);
    jpeg_mem_dest(c, &w->buffer, &w->size);
    c->image_width = job->width;
    c->image_height = job->height;
    c->input_components = int(job->channels);
    c->in_color_space = job->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, job->quality, TRUE);
    if (!job->chroma_subsampled) {  // 4:4:4 (jpeg_set_defaults chose 4:2:0)
        for (int i = 0; i < c->num_components; ++i) {
            c->comp_info[i].h_samp_factor = 1;
            c->comp_info[i].v_samp_factor = 1;
        }
    }
    c->optimize_coding = TRUE;
    if (job->progressive) jpeg_simple_progression(c);
    const ImageMetadata& m = *job->meta;
    // EXIF must be the first segment after SOI, so no JFIF APP0 in front of it.
    if (!m.exif.empty()) c->write_JFIF_header = FALSE;
    jpeg_start_compress(c, TRUE);
    if (!m.exif.empty()) write_prefixed_marker(c, JPEG_APP0 + 1, kExifTag, 6, m.exif);
    if (!m.xmp.empty()) write_prefixed_marker(c, JPEG_APP0 + 1, kXmpTag, sizeof kXmpTag, m.xmp);
    if (!m.icc_profile.empty())
        jpeg_write_icc_profile(c, m.icc_profile.data(), unsigned(m.icc_profile.size()));
    for (const std::string& s : m.comments)
        jpeg_write_marker(c, JPEG_COM, reinterpret_cast<const JOCTET*>(s.data()), unsigned(s.size()));
    const size_t row = size_t(job->width) * job->channels;
    while (c->next_scanline < c->image_height) {
        JSAMPROW p = const_cast<JSAMPROW>(job->pixels + size_t(c->next_scanline) * row);
        jpeg_write_scanlines(c, &p, 1);
    }
    jpeg_finish_compress(c);
    return true;
}

struct WriterGuard {
    JpegWriter* w;
    ~WriterGuard() {
        jpeg_destroy_compress(&w->c);
        std::free(w->buffer);
    }
};

// JPEG holds 8-bit gray or RGB only: scale 16-bit samples, composite alpha over white.
std::vector<uint8_t> to_jpeg_samples(const Image& im, uint32_t out_channels) {
    const uint32_t ch = im.channels, cc = im.color_channels();
    const size_t n = size_t(im.width) * im.height;
    const uint32_t maxv = im.max_value();
    std::vector<uint8_t> out(n * out_channels);
    const uint8_t* d8 = im.data.data();
    const uint16_t* d16 = reinterpret_cast<const uint16_t*>(im.data.data());
    for (size_t i = 0; i < n; ++i) {
        uint32_t a = im.has_alpha() ? (im.bits == 16 ? d16[i * ch + cc] : d8[i * ch + cc]) : maxv;
        for (uint32_t k = 0; k < out_channels; ++k) {
            uint64_t v = im.bits == 16 ? d16[i * ch + k] : d8[i * ch + k];
            uint64_t over = (v * a + uint64_t(maxv) * (maxv - a) + maxv / 2) / maxv;  // in [0,maxv]
            out[i * out_channels + k] = uint8_t((over * 255 + maxv / 2) / maxv);
        }
    }
    return out;
}

}  // namespace

Image decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& name,
                  const ReadLimits& limits) {
    auto fail = [&](const std::string& why) { return ImageError(name + ": " + why); };
    if (bytes.size() < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF)
        throw fail("not a JPEG file");
    JpegReader r;
    std::memset(&r.d, 0, sizeof r.d);
    std::memset(&r.progress, 0, sizeof r.progress);
    init_error(&r.err);
    r.d.err = &r.err.pub;
    ReaderGuard guard{&r};

    if (!jpeg_header_phase(&r, bytes.data(), bytes.size()))
        throw fail(std::string("invalid JPEG: ") + r.err.message);

    const uint32_t w = r.d.image_width, h = r.d.image_height;
    if (r.d.jpeg_color_space == JCS_CMYK || r.d.jpeg_color_space == JCS_YCCK)
        throw fail("unsupported JPEG colour space: CMYK (only grayscale and RGB are supported)");
    if (r.d.num_components != 1 && r.d.num_components != 3)
        throw fail("unsupported JPEG with " + std::to_string(r.d.num_components) + " components");
    if (w == 0 || h == 0) throw fail("invalid JPEG: zero width or height");
    if (w > limits.max_dimension || h > limits.max_dimension)
        throw fail(std::to_string(w) + "x" + std::to_string(h) + " exceeds the maximum side of " +
                   std::to_string(limits.max_dimension) + " pixels");
    if (uint64_t(w) * h > limits.max_pixels)
        throw fail(std::to_string(w) + "x" + std::to_string(h) + " pixels exceeds the limit of " +
                   std::to_string(limits.max_pixels) + " pixels (max_pixels)");
    r.d.out_color_space = r.d.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;

    Image image;
    image.width = w;
    image.height = h;
    image.channels = uint32_t(r.d.num_components);
    image.bits = 8;
    image.format = ImageFormat::jpeg;
    collect_metadata(&r.d, image.metadata);
    try {
        image.data.resize(image.row_bytes() * h);
    } catch (const std::bad_alloc&) {
        throw fail("out of memory for " + std::to_string(w) + "x" + std::to_string(h) + " pixels");
    }
    int rc = jpeg_rows_phase(&r, image.data.data(), image.row_bytes());
    if (rc == 0) throw fail(std::string("invalid JPEG: ") + r.err.message);
    if (rc < 0) throw fail("unsupported JPEG layout");
    return image;
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality, bool chroma_subsampled,
                                 const std::string& name) {
    auto fail = [&](const std::string& why) { return ImageError(name + ": " + why); };
    const ImageMetadata& m = image.metadata;
    if (m.exif.size() + 6 > 65533) throw fail("EXIF block too large for a JPEG APP1 segment");
    if (m.xmp.size() + sizeof kXmpTag > 65533) throw fail("XMP packet too large for a JPEG APP1 segment");
    for (const std::string& s : m.comments)
        if (s.size() > 65533) throw fail("comment too large for a JPEG COM segment");

    const uint32_t out_channels = image.color_channels();
    std::vector<uint8_t> converted;
    const uint8_t* pixels = image.data.data();
    if (image.bits != 8 || image.has_alpha()) {
        converted = to_jpeg_samples(image, out_channels);
        pixels = converted.data();
    }
    JpegWriter w;
    std::memset(&w.c, 0, sizeof w.c);
    init_error(&w.err);
    w.c.err = &w.err.pub;
    WriterGuard guard{&w};
    JpegWriteJob job{pixels, image.width, image.height, out_channels,
                     std::clamp(quality, 1, 100), chroma_subsampled, m.interlaced, &m};
    if (!jpeg_write_phase(&w, &job)) throw fail(std::string("JPEG encoding failed: ") + w.err.message);
    return std::vector<uint8_t>(w.buffer, w.buffer + w.size);
}

}  // namespace bd
