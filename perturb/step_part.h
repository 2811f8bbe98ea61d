// A named part of the work on a batch (a step's views, its encoder, the fit after the run...)
// for profilers and bench/bench_launches, which count a GPU's launches part by part; nothing
// is recorded unless one listens. A part ends where the next one begins
// (std::optional::emplace) or at the end of its scope; the innermost part running names
// what runs.
#pragma once

#include <ATen/record_function.h>

namespace bd {

class StepPart {
public:
    explicit StepPart(const char* name) : guard_(at::RecordScope::USER_SCOPE) {
        if (guard_.isActive()) guard_.before(name, c10::ArrayRef<const c10::IValue>{});
    }

private:
    at::RecordFunction guard_;
};

}  // namespace bd
