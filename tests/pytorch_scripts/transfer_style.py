"""In the style of the ResNet-18 transfer-learning tutorial (written here): a zoo model with a new
head, phases with set_grad_enabled, running corrects over labels.data, best weights by deepcopy."""
import copy
import time

import minitorch_cnn as torch
import minitorch_cnn.nn as nn
import minitorch_cnn.optim as optim
from minitorch_cnn.optim import lr_scheduler
from minitorch_cnn.utils.data import DataLoader, TensorDataset
from minitorch_cnn.vision import models

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
data = {p: TensorDataset(torch.randn(8, 3, 64, 64), torch.randint(0, 2, (8,))) for p in ("train", "val")}
dataloaders = {x: DataLoader(data[x], batch_size=4, shuffle=True) for x in ["train", "val"]}
dataset_sizes = {x: len(data[x]) for x in ["train", "val"]}


def train_model(model, criterion, optimizer, scheduler, num_epochs=2):
    since = time.time()
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        print(f"Epoch {epoch}/{num_epochs - 1}")
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == "train":
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            print(f"{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}")
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    print(f"Training complete in {time.time() - since:.0f}s, best val Acc: {best_acc:4f}")
    model.load_state_dict(best_model_wts)
    return model


model_ft = models.resnet18(weights=None)
num_ftrs = model_ft.fc.in_features
model_ft.fc = nn.Linear(num_ftrs, 2)
model_ft = model_ft.to(device)
criterion = nn.CrossEntropyLoss()
optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)
model_ft = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, num_epochs=1)
for param in model_ft.parameters():
    param.requires_grad = False
