// The few library facts the window needs that live behind libtorch headers. Kept in a
// torch-only translation unit so the Qt files compile fast and never see torch's macros.
#pragma once

#include <string>
#include <vector>

namespace bd::gui {

// The built-in concept list for the target box; empty if the library cannot give one.
std::vector<std::string> concept_names();

// True when libtorch sees a CUDA device; the GPU choice is disabled otherwise.
bool gpu_available();

}  // namespace bd::gui
