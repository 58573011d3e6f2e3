"""The watch daemon: file events → debounced batches → the same incremental build as `build`."""
