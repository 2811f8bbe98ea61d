// Ref: OpenAI CLIP's zero-shot recipe (notebooks/Prompt_Engineering_for_ImageNet.ipynb):
// each class's prompt embeddings are normalised, averaged, and normalised again.
#include "perturb/concepts.h"

#include "encoders/encoder.h"

namespace bd {
namespace {

// Prompts per text-tower call: big enough to amortise, small enough for a laptop's memory.
constexpr size_t kTextBatch = 256;

torch::Tensor encode_unit(Encoder& encoder, const std::vector<std::string>& prompts) {
    std::vector<torch::Tensor> parts;
    for (size_t i = 0; i < prompts.size(); i += kTextBatch) {
        const auto end = std::min(prompts.size(), i + kTextBatch);
        std::vector<std::string> chunk(prompts.begin() + i, prompts.begin() + end);
        parts.push_back(encoder.encode_texts(chunk).to(torch::kFloat));
    }
    auto all = torch::cat(parts, 0);  // [P, D]
    return torch::nn::functional::normalize(all, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

std::string fill(const std::string& tmpl, const std::string& concept_name) {
    std::string out = tmpl;
    const auto at = out.find("{}");
    if (at != std::string::npos) out.replace(at, 2, concept_name);
    return out;
}

}  // namespace

// COCO's 80 classes plus ImageNet-style animals, objects, places and art subjects.
// Kept sorted and unique (a test checks), so `belladonna concepts` reads like an index.
const std::vector<std::string>& builtin_concepts() {
    static const std::vector<std::string> list = {
    "accordion", "airplane", "alarm clock", "albatross", "alligator", "alpaca", "ambulance",
    "anchor", "angel", "ant", "apple", "armadillo", "armchair", "astronaut", "axe", "baboon",
    "baby", "backpack", "badger", "bag", "ball", "balloon", "bamboo", "banana", "barn",
    "barrel", "baseball bat", "baseball glove", "basket", "basketball", "bat", "bathtub",
    "beach", "bear", "beaver", "bed", "bee", "beer", "beetle", "bench", "bicycle",
    "bicycle helmet", "binoculars", "bird", "bison", "blanket", "boar", "boat", "book",
    "bookcase", "boot", "bottle", "bow", "bowl", "box", "boy", "bracelet", "bread", "bridge",
    "broccoli", "broom", "brown bear", "bucket", "buffalo", "burger", "bus", "butterfly",
    "cabin", "cactus", "cake", "calculator", "camel", "camera", "candle", "canoe", "canyon",
    "cap", "car", "carpet", "carrot", "castle", "cat", "caterpillar", "cave", "cell phone",
    "cello", "centipede", "chain", "chair", "chameleon", "chandelier", "cheese", "cheetah",
    "cherry", "chess board", "child", "chimpanzee", "chipmunk", "chocolate", "church", "cliff",
    "clock", "clock tower", "cloud", "clown", "coat", "coconut", "coffee", "compass",
    "computer", "computer mouse", "cookie", "corn", "couch", "cow", "coyote", "crab", "cricket",
    "crocodile", "crowd", "crown", "cucumber", "cup", "curtain", "daisy", "deer", "desert",
    "desk", "dice", "dining table", "dog", "doll", "dolphin", "donkey", "donut", "door",
    "dragon", "dragonfly", "dress", "drum", "duck", "eagle", "egg", "elephant", "elk",
    "envelope", "eye", "face", "factory", "family", "fence", "fern", "field", "fire hydrant",
    "fire truck", "fireplace", "flag", "flamingo", "flower", "flute", "fly", "football",
    "forest", "fork", "fountain", "fox", "frisbee", "frog", "galaxy", "garlic", "gate", "ghost",
    "giraffe", "girl", "glacier", "glasses", "globe", "glove", "goat", "goldfinch", "goldfish",
    "golf ball", "goose", "gorilla", "grape", "grass", "grasshopper", "greenhouse", "guitar",
    "hair dryer", "hammer", "hamster", "hand", "handbag", "hare", "harp", "hat", "headphones",
    "hedgehog", "helicopter", "helmet", "hen", "hippopotamus", "horse", "hospital", "hot dog",
    "house", "hummingbird", "hyena", "ice cream", "island", "jacket", "jaguar", "jar", "jay",
    "jeans", "jeep", "jellyfish", "juice", "jungle", "kangaroo", "kayak", "kettle", "key",
    "keyboard", "kimono", "king", "kite", "knife", "knight", "koala", "ladder", "ladybug",
    "lake", "lamp", "laptop", "leaf", "lemon", "lemur", "leopard", "letter", "library",
    "lighthouse", "lily", "limousine", "lion", "lizard", "llama", "lobster", "lock",
    "locomotive", "lynx", "magazine", "magpie", "man", "mango", "map", "maple", "mask",
    "meadow", "medal", "microphone", "microwave", "milk", "mirror", "monitor", "monkey",
    "monument", "moon", "moose", "mosque", "mosquito", "moth", "motorcycle", "mountain",
    "mouse", "mule", "museum", "mushroom", "necklace", "newspaper", "ninja", "noodles", "oak",
    "ocean", "octopus", "old man", "old woman", "onion", "orange", "orangutan", "orchid",
    "ostrich", "otter", "oven", "owl", "painting", "palace", "palm tree", "pan", "panda",
    "panther", "parking meter", "parrot", "peach", "peacock", "pear", "pelican", "penguin",
    "pepper", "person", "phone", "photograph", "piano", "pie", "pig", "pillow", "pine tree",
    "pineapple", "pirate", "pizza", "plate", "polar bear", "police car", "porcupine",
    "portrait", "poster", "pot", "potato", "potted plant", "princess", "printer", "pumpkin",
    "purse", "puzzle", "queen", "rabbit", "raccoon", "radio", "rainbow", "rake", "rat",
    "red panda", "reef", "refrigerator", "remote control", "rhinoceros", "ring", "river",
    "robin", "robot", "rocket", "rooster", "rope", "rose", "sailboat", "salad", "samurai",
    "sandal", "sandwich", "saw", "saxophone", "scarf", "school", "scissors", "scooter",
    "scorpion", "screwdriver", "sculpture", "sea lion", "seal", "shark", "sheep", "shelf",
    "shield", "ship", "shirt", "shoe", "shovel", "shower", "shrimp", "sink", "skateboard",
    "skeleton", "skirt", "skis", "skull", "skunk", "sky", "skyscraper", "sloth", "slug",
    "snail", "snake", "snowboard", "soccer ball", "sock", "sofa", "soldier", "soup", "spider",
    "spoon", "squid", "squirrel", "stadium", "staircase", "star", "starfish", "statue", "steak",
    "stingray", "stop sign", "stove", "strawberry", "submarine", "suitcase", "sun", "sunflower",
    "sunglasses", "surfboard", "sushi", "swan", "sweater", "sword", "table", "tablet", "taco",
    "taxi", "tea", "teapot", "teddy bear", "telescope", "television", "temple", "tennis ball",
    "tennis racket", "tent", "tick", "tie", "tiger", "toaster", "toilet", "tomato",
    "toothbrush", "tower", "toy car", "tractor", "traffic light", "train", "tram", "tree",
    "trophy", "truck", "trumpet", "tulip", "turtle", "typewriter", "umbrella", "unicorn",
    "uniform", "valley", "van", "vase", "violin", "volcano", "vulture", "wallet", "wardrobe",
    "wasp", "watch", "waterfall", "watermelon", "whale", "wheelchair", "windmill", "window",
    "wine", "wine glass", "witch", "wizard", "wolf", "woman", "worm", "wrench", "yacht",
    "zebra",
    };
    return list;
}

const std::vector<std::string>& prompt_templates() {
    static const std::vector<std::string> templates = {
        "a photo of a {}", "a painting of a {}", "an illustration of a {}",
        "a drawing of a {}", "a picture of a {}",
    };
    return templates;
}

torch::Tensor concept_embeddings(Encoder& encoder, const std::vector<std::string>& concepts) {
    TORCH_CHECK(encoder.has_text(), "concept_embeddings: ", encoder.text_unavailable());
    TORCH_CHECK(!concepts.empty(), "concept_embeddings: no concepts");
    torch::NoGradGuard no_grad;
    const auto& templates = prompt_templates();
    std::vector<std::string> prompts;
    prompts.reserve(concepts.size() * templates.size());
    for (const auto& c : concepts)
        for (const auto& t : templates) prompts.push_back(fill(t, c));
    const auto k = int64_t(concepts.size()), t = int64_t(templates.size());
    auto per_prompt = encode_unit(encoder, prompts);           // [K*T, D]
    auto mean = per_prompt.view({k, t, -1}).mean(1);           // [K, D]
    return torch::nn::functional::normalize(mean, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

torch::Tensor zero_shot_probabilities(Encoder& encoder, const torch::Tensor& image_embeddings,
                                      const std::vector<std::string>& labels) {
    TORCH_CHECK(encoder.has_text(), "zero_shot_probabilities: ", encoder.text_unavailable());
    TORCH_CHECK(!labels.empty(), "zero_shot_probabilities: no labels");
    TORCH_CHECK(image_embeddings.dim() == 2, "zero_shot_probabilities: image embeddings must be [N, D]");
    torch::Tensor text;
    {
        torch::NoGradGuard no_grad;
        std::vector<std::string> prompts;
        for (const auto& l : labels) prompts.push_back("a photo of a " + l);
        text = encode_unit(encoder, prompts).to(image_embeddings.device());  // [L, D]
    }
    TORCH_CHECK(text.size(1) == image_embeddings.size(1), "zero_shot_probabilities: image dim ",
                image_embeddings.size(1), " != text dim ", text.size(1));
    // Normalising again is harmless for unit inputs and makes raw embeddings safe too.
    auto images = torch::nn::functional::normalize(image_embeddings.to(torch::kFloat),
                                                   torch::nn::functional::NormalizeFuncOptions().dim(1));
    auto logits = encoder.logit_scale() * images.matmul(text.t());  // [N, L]
    return torch::softmax(logits, 1);
}

}  // namespace bd
