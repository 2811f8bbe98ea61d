// Thrown when a progress callback asks to stop; every layer lets it pass unchanged.
#pragma once

#include <stdexcept>

namespace bd {

class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace bd
