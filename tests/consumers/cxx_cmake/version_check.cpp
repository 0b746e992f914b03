// SPDX-License-Identifier: Apache-2.0
// version_check.cpp: links the whole library (qsnn::qsnn, static or shared, with its dependencies) from C++ and
// checks that the library linked in is the one whose headers were used.
#include "qsnn/qsnn.h"

#include <cstdio>
#include <cstring>

int main()
{
    const char *v = qsnn_version();
    std::printf("libqsnn %s, %s\n", v, qsnn_status_str(QSNN_ERR_FORMAT));
    return std::strcmp(v, QSNN_VERSION_STRING) != 0;
}
