// Post-training int8 quantizer (work in progress: see issue 3).
import MNISTQTrainer
import MNISTQRuntime
