# SPDX-License-Identifier: Apache-2.0
# simd.cmake: instruction sets (issue 15, "portable by default"). Included by CMakeLists.txt after the warnings.
#
# Portable by default: the build targets the compiler's baseline (x86-64: SSE2), and the AVX2 + FMA kernels of
# src/nn, src/snn, src/quant, src/train and src/audio are compiled in any case (their own target regions,
# qsnn/simd.h) and chosen at run time: AVX2 + FMA CPUs take them, others (and QSNN_FORCE_SCALAR=1 in the
# environment) the scalar twins. -DQSNN_NATIVE=ON adds -march=native (Release builds): the plain-C code around the
# kernels is then compiled for the build machine too, and the binary may not run on another CPU.
# -ffp-contract=off: no fused multiply-adds but those written as FMA intrinsics. GCC's default in ISO C mode, said
# here so that clang (whose default fuses within a statement) and GNU-mode builds give the scalar paths the same
# floats as GCC does, on every CPU and with or without -march=native.
option(QSNN_NATIVE "Optimise for the build machine (-march=native); the default build runs on any CPU of its architecture" OFF)
add_compile_options(-ffp-contract=off)
if(CMAKE_BUILD_TYPE STREQUAL "Release" AND QSNN_NATIVE) # also under the sanitizers
  add_compile_options(-march=native)
endif()
