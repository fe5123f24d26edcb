"""The two models: a small MLP classifier and a small causal transformer language model."""
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, input_dim, hidden, depth, classes):
        super().__init__()
        layers, width = [], input_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.GELU()]
            width = hidden
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class TinyTransformer(nn.Module):
    """Decoder-only transformer (pre-norm), enough to give NCCL real gradients to move."""

    def __init__(self, vocab, seq_len, d_model, n_layers, n_heads, dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(1, seq_len, d_model))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, 4 * d_model, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)
        self.register_buffer("causal_mask", nn.Transformer.generate_square_subsequent_mask(seq_len), persistent=False)

    def forward(self, tokens):
        length = tokens.shape[1]
        h = self.embed(tokens) + self.pos[:, :length]
        h = self.blocks(h, mask=self.causal_mask[:length, :length], is_causal=True)
        return self.head(self.norm(h))


def build_model(args, data_shape):
    """data_shape comes from the dataset (features/classes or vocab/sequence length)."""
    if args.model == "mlp":
        return MLP(data_shape["input_dim"], args.hidden, args.depth, data_shape["classes"])
    return TinyTransformer(
        data_shape["vocab"], data_shape["seq_len"], args.d_model, args.n_layers, args.n_heads, args.dropout
    )


def loss_sum(model_name, logits, targets):
    """The sum over the batch of each sample's loss (a sequence's: the mean over its tokens)."""
    if model_name == "mlp":
        return nn.functional.cross_entropy(logits.float(), targets, reduction="sum")
    tokens = nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum")
    return tokens / targets.shape[-1]
