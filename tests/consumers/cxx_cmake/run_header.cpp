// SPDX-License-Identifier: Apache-2.0
// run_header.cpp: C++ around a header from `qsnn export kws.snn -o kws_model.h --input CLIP` and the engine
// (qsnn::snn): the image from the header validated in place, the test vector's uint8 input run, the potentials
// compared with the ones the host computed when it exported; prints "class LABEL potentials P0 P1 ..." as
// tests/consumers/c_pkgconfig/classify.c does for the same clip. Exit 1 on any difference.
#define KWS_MODEL_IMPLEMENTATION
#include "kws_model.h"

#include "qsnn/snn.h"
#include "qsnn/version.h"

#include <cstdio>
#include <cstring>
#include <vector>

int main()
{
    qsnn_snn_model m;
    if (qsnn_snn_model_init(&m, kws_model, KWS_MODEL_SIZE, "kws_model.h") != QSNN_OK) {
        std::fprintf(stderr, "run_header: %s\n", qsnn_last_error());
        return 1;
    }
    alignas(16) static unsigned char work[KWS_WORKSPACE_SIZE];
    qsnn_snn_ctx *ctx = nullptr;
    int32_t pot[KWS_NUM_CLASSES], pred = -1;
    if (qsnn_snn_init(&ctx, &m, work, sizeof work) != QSNN_OK ||
        qsnn_snn_run(ctx, kws_test_input, pot, &pred, nullptr) != QSNN_OK) {
        std::fprintf(stderr, "run_header: %s\n", qsnn_last_error());
        return 1;
    }
    if (pred != KWS_TEST_CLASS || std::memcmp(pot, kws_test_potentials, sizeof pot) != 0) {
        std::fprintf(stderr, "run_header: class %d, the exporting host's %d (or the potentials differ)\n", (int)pred,
                     KWS_TEST_CLASS);
        return 1;
    }
    std::printf("class %s potentials", kws_labels[pred]);
    for (int k = 0; k < KWS_NUM_CLASSES; k++)
        std::printf(" %ld", static_cast<long>(pot[k]));
    std::printf("\n");
    std::fprintf(stderr, "run_header: engine of qsnn %s, header of qsnn %s\n", qsnn_version(), QSNN_VERSION_STRING);
    return 0;
}
