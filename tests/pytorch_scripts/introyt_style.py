"""In the style of the "introyt" Fashion-MNIST training loop (written here): per-epoch training with
a running loss reported every N batches, validation under no_grad, a model file with no suffix."""
from datetime import datetime

import minitorch_cnn as torch
import minitorch_cnn.nn as nn
import minitorch_cnn.nn.functional as F
import minitorch_cnn.vision.transforms as transforms
from minitorch_cnn.utils.data import DataLoader, TensorDataset, random_split

transform = transforms.Compose([transforms.Normalize((0.5,), (0.5,))])
x, y = torch.rand(120, 1, 28, 28), torch.randint(0, 10, (120,))  # the data source (FashionMNIST in theirs)
full = TensorDataset(torch.stack([transform(img) for img in x]), y)
training_set, validation_set = random_split(full, [0.8, 0.2], generator=42)
training_loader = DataLoader(training_set, batch_size=4, shuffle=True)
validation_loader = DataLoader(validation_set, batch_size=4, shuffle=False)
print(f"Training set has {len(training_set)} instances")


class GarmentClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 4 * 4)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


model = GarmentClassifier()
loss_fn = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)


def train_one_epoch(epoch_index):
    running_loss = 0.
    last_loss = 0.
    for i, data in enumerate(training_loader):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 8 == 7:
            last_loss = running_loss / 8
            print(f"  batch {i + 1} loss: {last_loss}")
            running_loss = 0.
    return last_loss


timestamp = datetime.now().strftime("%Y%m%d_%H%M%S")
best_vloss = 1_000_000.
for epoch_number in range(2):
    print(f"EPOCH {epoch_number + 1}:")
    model.train(True)
    avg_loss = train_one_epoch(epoch_number)
    running_vloss = 0.0
    model.eval()
    with torch.no_grad():
        for i, vdata in enumerate(validation_loader):  # noqa: B007 - i is read after the loop, as in the tutorial
            vinputs, vlabels = vdata
            voutputs = model(vinputs)
            vloss = loss_fn(voutputs, vlabels)
            running_vloss += vloss
    avg_vloss = running_vloss / (i + 1)
    print(f"LOSS train {avg_loss} valid {avg_vloss}")
    if avg_vloss < best_vloss:
        best_vloss = avg_vloss
        model_path = f"model_{timestamp}_{epoch_number}"
        torch.save(model.state_dict(), model_path)
saved = GarmentClassifier()
saved.load_state_dict(torch.load(model_path))
print("reloaded", model_path)
