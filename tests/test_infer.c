/* SPDX-License-Identifier: Apache-2.0 */
/* test_infer.c: the class decision of the float/quantized model (qsnn_argmax_f64): lowest index on ties, where a
 * tie is equality up to double rounding (1e-9 of the largest |logit|), so that the float model and the integer
 * engine (argmax of exact integer potentials, lowest index on ties) break exact ties the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qsnn/model.h"

static void test_argmax_plain(void **state)
{
    (void)state;
    const double v[5] = {-3.0, 2.5, 7.0, 1.0, 6.999};
    assert_int_equal(qsnn_argmax_f64(v, 5), 2);
    const double neg[3] = {-5.0, -1.0, -2.0};
    assert_int_equal(qsnn_argmax_f64(neg, 3), 1);
    const double zeros[4] = {0, 0, 0, 0};
    assert_int_equal(qsnn_argmax_f64(zeros, 4), 0);
    const double one[1] = {42.0};
    assert_int_equal(qsnn_argmax_f64(one, 1), 0);
}

static void test_argmax_exact_and_rounding_ties_go_low(void **state)
{
    (void)state;
    /* exact tie: lowest index */
    const double exact[12] = {1, 9.5, 2, 3, 4, 5, 6, 7, 8, 1, 0, 9.5};
    assert_int_equal(qsnn_argmax_f64(exact, 12), 1);
    /* the case met on real data: class 11 above class 1 by double rounding noise only */
    double noisy[12] = {1, 9.5, 2, 3, 4, 5, 6, 7, 8, 1, 0, 9.5};
    noisy[11] = 9.5 * (1.0 + 4e-15);
    assert_int_equal(qsnn_argmax_f64(noisy, 12), 1);
    noisy[11] = 9.5 * (1.0 + 1e-10);
    assert_int_equal(qsnn_argmax_f64(noisy, 12), 1);
}

static void test_argmax_real_differences_win(void **state)
{
    (void)state;
    /* a difference one integer potential unit would make (>= 1e-6 relative for |p| <= 1e6) is not a tie */
    double v[3] = {1000.0, 1000.0 + 1e-3, 999.0};
    assert_int_equal(qsnn_argmax_f64(v, 3), 1);
    v[1] = 1000.0 * (1.0 + 1e-8);
    assert_int_equal(qsnn_argmax_f64(v, 3), 1);
    /* the tolerance scales with the largest magnitude, not with the compared values */
    double w[3] = {-1e6, 0.5, 0.5 + 1e-2};
    assert_int_equal(qsnn_argmax_f64(w, 3), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argmax_plain),
        cmocka_unit_test(test_argmax_exact_and_rounding_ties_go_low),
        cmocka_unit_test(test_argmax_real_differences_win),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
