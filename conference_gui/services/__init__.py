"""Qt services: QObjects and clients that talk to the network and only emit signals."""
