/* libFuzzer entry for the header decoder (see fuzz_targets.c). */
#include "fuzz_targets.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    return fuzz_header(data, len);
}
