#include "src/io/exif.h"

#include <cstddef>

namespace bd {

int exif_orientation(const std::vector<uint8_t>& t) {
    // Every read is bounds-checked: the payload comes straight from an untrusted file.
    const size_t n = t.size();
    if (n < 8) return 1;
    bool le;
    if (t[0] == 'I' && t[1] == 'I') le = true;
    else if (t[0] == 'M' && t[1] == 'M') le = false;
    else return 1;
    auto u16 = [&](size_t o) -> uint32_t {
        return le ? uint32_t(t[o]) | uint32_t(t[o + 1]) << 8 : uint32_t(t[o]) << 8 | t[o + 1];
    };
    auto u32 = [&](size_t o) -> uint32_t {
        return le ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2);
    };
    if (u16(2) != 42) return 1;
    uint64_t ifd = u32(4);
    if (ifd + 2 > n) return 1;
    uint32_t count = u16(size_t(ifd));
    for (uint32_t i = 0; i < count; ++i) {
        uint64_t e = ifd + 2 + uint64_t(i) * 12;
        if (e + 12 > n) return 1;
        size_t o = size_t(e);
        if (u16(o) != 0x0112) continue;
        uint32_t type = u16(o + 2);
        uint32_t v;
        if (type == 3) v = u16(o + 8);        // SHORT, inline in the value field
        else if (type == 4) v = u32(o + 8);   // LONG (non-standard, seen in the wild)
        else return 1;
        return (v >= 1 && v <= 8) ? int(v) : 1;
    }
    return 1;
}

}  // namespace bd
