"""Input and output: bytes on disk and signals, knowing nothing of networks.

=================  ==============================================================================
``files``          atomic, durable writes with normal permissions; reading the text files a user names
``data``           the IDX reader, MNIST lookup and download with checksums, ``load_mnist``
``datasets``       writing IDX files; naming a dataset by its content (``dataset_id``)
``splits``         which images: the labelled pass and the validation split that selects models
``runs``           the run-directory format (a trained network and what produced it)
``checkpoint``     checkpoints of long runs and their resumable sessions
``interrupt``      Ctrl-C and SIGTERM: stopping every kernel thread after its current sample
=================  ==============================================================================

Nothing here imports the rest of spikedyn but :mod:`spikedyn.errors` (and the version
string): a network and a config save and restore themselves *through* these formats
(``Network.save``, ``NetworkConfig.save``), and the functions that build a network from
a file are given its class.
"""
