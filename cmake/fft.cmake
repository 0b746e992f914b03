# SPDX-License-Identifier: Apache-2.0
# fft.cmake: the FFT backend of the front ends (src/audio/fft.c, fft_internal.h), chosen at build time.
# Included by CMakeLists.txt once qsnn_lib exists, before it links QSNN_LIB_DEPS.
#   default           KissFFT (kissfft-float, BSD-3-Clause): the whole build stays free of GPL FFT code
#   -DQSNN_FFTW=ON    FFTW single precision (fftw3f, GPL-2.0-or-later, Debian's libfftw3-dev): faster MFCC; a
#                     binary linked with it falls under the GPL (NOTICE)
# Both are single precision (the same results within the front ends' golden tests); KissFFT stays a dependency
# either way (tests/test_mfcc_device.c and bench/bench_mfcc.c compare with it).
option(QSNN_FFTW "FFT of the MFCC and tf-signal front ends with FFTW (fftw3f, GPL) instead of KissFFT" OFF)
if(QSNN_FFTW)
  pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
  list(APPEND QSNN_LIB_DEPS PkgConfig::FFTW3F) # private to libqsnn, like its other dependencies
  set_property(SOURCE src/audio/fft.c APPEND PROPERTY COMPILE_DEFINITIONS QSNN_HAVE_FFTW=1)
  message(STATUS "qsnn: FFT backend FFTW (fftw3f, GPL)")
else()
  message(STATUS "qsnn: FFT backend KissFFT")
endif()
