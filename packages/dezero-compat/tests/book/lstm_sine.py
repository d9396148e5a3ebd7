# Steps 59-60: an LSTM on the noisy sine curve, truncated BPTT, Adam.
import numpy as np

import dezero
import dezero.functions as F
import dezero.layers as L
from dezero import Model
from dezero.dataloaders import SeqDataLoader

np.random.seed(0)
max_epoch = 3
batch_size = 30
hidden_size = 20
bptt_length = 30

train_set = dezero.datasets.SinCurve(train=True)
dataloader = SeqDataLoader(train_set, batch_size=batch_size)
seqlen = len(train_set)
print("data", len(train_set), np.round(train_set[0][0], 8), dataloader.max_iter)


class BetterRNN(Model):
    def __init__(self, hidden_size, out_size):
        super().__init__()
        self.rnn = L.LSTM(hidden_size)
        self.fc = L.Linear(out_size)

    def reset_state(self):
        self.rnn.reset_state()

    def forward(self, x):
        y = self.rnn(x)
        y = self.fc(y)
        return y


model = BetterRNN(hidden_size, 1)
optimizer = dezero.optimizers.Adam().setup(model)

for epoch in range(max_epoch):
    model.reset_state()
    loss, count = 0, 0
    for x, t in dataloader:
        y = model(x)
        loss += F.mean_squared_error(y, t)
        count += 1
        if count % bptt_length == 0 or count == seqlen:
            model.cleargrads()
            loss.backward()
            loss.unchain_backward()
            optimizer.update()
    avg_loss = float(loss.data) / count
    print("epoch", epoch + 1, "loss", avg_loss)

xs = np.cos(np.linspace(0, 4 * np.pi, 50))
model.reset_state()
pred_list = []
with dezero.no_grad():
    for x in xs:
        x = np.array(x).reshape(1, 1)
        y = model(x)
        pred_list.append(y.data.item())  # float() of a (1, 1) array fails on NumPy >= 2.4
print("predictions", np.round(pred_list[::10], 5))
