// Just enough Unicode for CLIP's pre-tokenizer regex (\p{L}, \p{N}, \s) and lower().
#pragma once

namespace bd::unicode {

bool is_letter(char32_t c);
bool is_number(char32_t c);
bool is_space(char32_t c);
char32_t to_lower(char32_t c);  // simple (one code point) lower-case mapping

}  // namespace bd::unicode
