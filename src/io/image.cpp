#include "src/io/image.h"

namespace bd {

const char* format_name(ImageFormat f) {
    switch (f) {
        case ImageFormat::png: return "png";
        case ImageFormat::jpeg: return "jpeg";
        default: return "unknown";
    }
}

}  // namespace bd
