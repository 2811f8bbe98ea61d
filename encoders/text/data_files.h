// Files installed with belladonna under share/belladonna/ (the CLIP vocabulary), found at
// run time relative to the library and to the executable, so an installed tree, a build
// tree and a copy moved elsewhere all work without configuration.
#pragma once

#include <string>
#include <vector>

namespace bd {

// Folders looked in, in order: $BELLADONNA_DATA_DIR when set; beside libbelladonna
// (<libdir>/<path to share/belladonna>, then <libdir>/../share/belladonna); beside the
// executable (<bindir>/../share/belladonna). Duplicates removed.
std::vector<std::string> data_dirs();

// The first data_dirs()/relative that is a file, else "". `looked` receives every path
// tried, for an error message that says where.
std::string find_data_file(const std::string& relative, std::vector<std::string>* looked = nullptr);

}  // namespace bd
