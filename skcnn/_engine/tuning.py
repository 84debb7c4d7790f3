"""Every constant of the engine that was tuned by measuring, with where it came from.

All were measured on the project's 2-core benchmark machine (x86-64 with
AVX-512, OpenBLAS, float32), but for those that say they come from its
successor, an AMD EPYC with AVX2; on other machines they are safe defaults:
they choose between exact algorithms or sizes of work, never what is computed.
"""

# --- prediction ---------------------------------------------------------------

#: Prediction runs in batches whose largest intermediate array stays near this
#: size (in each thread): small enough to stay in cache. 4 MB predicted 1.8x
#: faster than 64 MB on the Fashion-MNIST reference network; 2 MB a thread,
#: 1.2x slower than 4 MB (``benchmarks/bench_prediction_threads.py``).
PREDICT_BATCH_BYTES = 4 * 2**20
#: Samples a prediction batch holds at least, whatever its arrays' size: where
#: a sample's im2col columns take megabytes, the budget alone made batches of 1
#: to 3 samples, and every layer's per-call costs came back at every sample.
#: With 16: the VGG-style network at 64x64x3 without the accelerator predicted
#: 304 against 212 images/s (batches of 1), the FCN for series 402 against 322
#: (batches of 2); 32 and 64 were no faster (AMD EPYC, 2 threads,
#: ``benchmarks/bench_scale.py``'s networks).
PREDICT_MIN_BATCH = 16

# --- training on shards (see parallel.shard_size) -------------------------------
#
# The figures separate the networks of benchmarks/bench_training_shards.py:
# shards of 32 train the reference network (3.8M conv multiply-adds a sample)
# 1.0-1.5x as fast as whole batches, a two-conv network of 1.0M about 1.1x; a
# one-conv network of 56k, an MLP and a conv feeding a large dense layer
# 0.6-0.96x. Two shards of 16 for batches of 32 measured 0.94x (0.87-1.31) and
# 1.0x (0.95-1.03): such batches stay whole.

#: Samples per shard, at least.
SHARD_SAMPLES = 32
#: Multiply-adds of the conv layers per shard, at least.
SHARD_CONV_MULTIPLY_ADDS = 2**24
#: Multiply-adds of the conv layers per shard for every parameter, at least.
SHARD_MULTIPLY_ADDS_PER_PARAMETER = 64

# --- the cost model of conv_algorithm="auto" (see kernels.algorithm_costs) ------
#
# Seconds per sample of a training step (forward and backward), fitted by least
# squares to the steps timed by benchmarks/calibrate_conv.py, where the model
# picks the faster algorithm for all 10 shapes.

#: FLOP/s of the im2col matrix products.
IM2COL_FLOP_RATE = 144e9
#: Window elements per second copied into and added back from the columns.
IM2COL_COPY_RATE = 1.7e9
#: (Output position x (filters + window)) per second.
IM2COL_POSITION_RATE = 0.5e9
#: FLOP/s of the shifted products (one per kernel tap, all positions of the padded input).
SHIFTED_FLOP_RATE = 182e9
#: Values per second of the passes every tap makes over the rows it adds into
#: (the output's filters forward, the input gradient's channels backward).
SHIFTED_PASS_RATE = 1.67e9
#: Real FLOP/s of the small per-frequency complex products of the FFT algorithm.
FFT_FLOP_RATE = 41e9
#: "n log2 n" points per second of the spectra.
FFT_POINT_RATE = 1.4e9

# --- Winograd convolutions on the compiled accelerator (see winograd.py) ---------
#
# The rates are the least-squares fit of ``python benchmarks/calibrate_conv.py
# --fit`` to its 3x3 shapes (training steps of 8 to 64 channels, 8x8 to 64x64,
# two threads), refitted on an AMD EPYC with AVX2 (no AVX-512) after the tile
# transforms were rewritten to run on the vector units (a first fit, to the
# first transforms on the earlier machine, gave 128e9 and 0.55e9). With them
# "auto" picks the fastest algorithm, within 10%, for all 20 shapes of the
# script, the first layers of 1 to 3 channels included (im2col there, hence
# WINOGRAD_MIN_CHANNELS).

#: Tiles a block of samples holds, about: each block is transformed, multiplied
#: and transformed back while in cache, and the blocks are what threads share.
#: A first choice (256 tiles of 36 values: 2.4 MB of float32 at 64 channels), not
#: tuned by measurement.
WINOGRAD_BLOCK_TILES = 256
#: Input channels a conv needs before "auto" considers Winograd: with 1 to 3
#: (first layers), im2col measured 1.1-3.4x as fast (13 vs 44 ms for 64 images
#: of 28x28x1 -> 32 filters; 21 vs 24 and 31 ms for 34x34x3 -> 32), since the
#: transforms of the filters' side cost the same however few channels come in.
WINOGRAD_MIN_CHANNELS = 4
#: How many times cheaper than im2col alone the cost model must price a Winograd
#: conv before "auto" gives up fusing that conv with the tiled max pooling after
#: it (fused im2col skips the pooling's pass and the unread positions). Between
#: the measurements (2 threads, im2col fused against F(4x4, 3x3) and a separate
#: pooling): the reference network's 32 -> 64 conv at 13x13, priced 1.39x
#: cheaper by the refitted rates, trained 1.04x and predicted 0.96x as fast with
#: Winograd (medians of 7 alternating repeats on the AMD EPYC; on the earlier
#: machine, with the first transforms, 4,400 against 4,600 and 14,500 against
#: 17,500 images/s): a draw, which fusion keeps; the VGG-style network's convs
#: at 32x32x32 and 16x16x64, priced 1.84x and 2.04x cheaper, trained 536
#: against 406 images/s with Winograd on the earlier machine.
FUSED_IM2COL_MARGIN = 1.5
#: FLOP/s of the per-position products of the Winograd domain.
WINOGRAD_FLOP_RATE = 103e9
#: Values per second of the tile transforms (each value a channel of a tile position).
WINOGRAD_TRANSFORM_RATE = 0.73e9
