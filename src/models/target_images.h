// The anchor images of `--target-image`: files and folders (recursed like INPUT, hidden and
// non-image files skipped) expanded to the image files whose mean embedding is the target.
#pragma once

#include <string>
#include <vector>

namespace bd {

// Expands `paths` to image files, in the order given (folders sorted). Throws
// std::invalid_argument with one line naming the file and the cause: a path that cannot be
// read or is not PNG/JPEG, a folder without images, or an anchor that is also one of the
// images `inputs` lists (with `output_dir` excluded, as the batch lists them): protecting an
// anchor would push it toward itself.
std::vector<std::string> expand_target_images(const std::vector<std::string>& paths,
                                              const std::vector<std::string>& inputs,
                                              const std::string& output_dir);

}  // namespace bd
