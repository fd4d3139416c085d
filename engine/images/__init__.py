"""Images: decoding from bytes (any depth, channels, EXIF), header sniffing, preprocessing.

`decoding` turns files into `LoadedImage` (a display copy in 8 bits and a precise copy for
the model) and lists image folders; `headers` reads sizes from headers before decoding, so
absurd images are refused cheaply; `preprocessing` scales and resizes for a model's input.
May import numpy, OpenCV, `engine.errors` and `engine.memory`; never TensorFlow, Qt or `gui`.
"""
