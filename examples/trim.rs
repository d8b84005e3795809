fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    let a = nonono::mail::reply::extract_answer(&text, &[]);
    println!("{}", a.text);
}
