/* SPDX-License-Identifier: Apache-2.0 */
/* schedule.c: learning-rate schedules. Cyclic = Keras CyclicLR 'triangular' as used by akida_models kws_train
 * (base 5e-6, max 2e-3, half-period 4 * N_train / batch steps); cosine = half-cosine from lr_max to lr_min over
 * the episode; constant = lr_max. */
#include "qsnn/train.h"

#include <math.h>

double qsnn_sched_lr(const qsnn_sched *s, double it)
{
    switch (s->kind) {
    case QSNN_SCHED_CYCLIC: {
        double ss = s->step_size > 0 ? s->step_size : 1.0;
        double cycle = floor(1.0 + it / (2.0 * ss));
        double x = fabs(it / ss - 2.0 * cycle + 1.0);
        double f = 1.0 - x;
        return s->lr_min + (s->lr_max - s->lr_min) * (f > 0 ? f : 0);
    }
    case QSNN_SCHED_COSINE: {
        double tot = s->total > 0 ? s->total : 1.0;
        double f = it / tot;
        f = f > 1.0 ? 1.0 : f;
        return s->lr_min + 0.5 * (s->lr_max - s->lr_min) * (1.0 + cos(3.14159265358979323846 * f));
    }
    default:
        return s->lr_max;
    }
}
