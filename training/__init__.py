"""Training and evaluation of fer_live's SE-ResNet; imports only fer_live's model, labels and preprocessing."""
