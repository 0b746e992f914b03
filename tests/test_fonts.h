/* SPDX-License-Identifier: Apache-2.0 */
/* test_fonts.h: for the tests that draw figures. Text loads cairo's and fontconfig's global caches; releasing
 * them before exit lets LeakSanitizer report only qsnn's own leaks. FcFini is reached through dlsym: fontconfig
 * is loaded by cairo, not linked by the tests (RTLD_DEFAULT: define _GNU_SOURCE before the first include).
 * Header-only: each test is its own program. */
#ifndef QSNN_TEST_FONTS_H
#define QSNN_TEST_FONTS_H

#include <cairo.h>
#include <dlfcn.h>
#include <string.h>

/* Call once, at the end of main, after every figure. */
static inline void test_release_font_caches(void)
{
    cairo_debug_reset_static_data();
    void (*fc_fini)(void) = NULL;
    void *sym = dlsym(RTLD_DEFAULT, "FcFini");
    memcpy(&fc_fini, &sym, sizeof sym); /* POSIX guarantees the conversion; memcpy keeps -Wpedantic quiet */
    if (fc_fini)
        fc_fini();
}

#endif
