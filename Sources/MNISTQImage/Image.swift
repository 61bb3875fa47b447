// Image decoding and MNIST-style preprocessing (work in progress: see issue 4).
